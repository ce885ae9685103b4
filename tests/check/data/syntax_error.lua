-- A Lua file with a syntax error on line 4.
function deep_name(query)
  return query.labels > 5
en
