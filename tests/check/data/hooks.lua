-- Lua hooks for the golden tests.
function silence(query)
  return "refuse"
end

function deep_name(query)
  return query.labels > 5
end

function first_up(servers, query)
  return 1
end

limit = 5
