-- Lua hooks for the samples. Each returns its decision; see docs/language.md.

-- An action: answer REFUSED to one client, NXDOMAIN to everyone else it sees.
function silence(query)
  if query.qname == "ask.example." then
    return "rcode", "NXDOMAIN"
  end
  return "refuse"
end

-- A predicate: true for names with more than 5 labels.
function deep_name(query)
  return query.labels > 5
end

-- A load-balancing policy: pick the first server that is up.
function first_up(servers, query)
  for i, s in ipairs(servers) do
    if s.up then return i end
  end
  return nil
end
