-- Lua hooks for the samples (docs/lua.md). Each worker runs its own copy:
-- globals are not shared between workers.

-- An action: silence a client with a custom answer. The office resolver at
-- 203.0.113.8 gets a TXT saying why for anything under lua.example.; a name
-- it asks about on purpose answers NXDOMAIN; everyone else is refused.
function silence(query)
  if query.src == "203.0.113.8" then
    return "spoof", {"TXT silenced by policy: call the DNS team"}, {ttl = 30}
  end
  if query.qname == "ask.lua.example." then
    return "rcode", "NXDOMAIN"
  end
  return "refuse"
end

-- A predicate: true for names with more than 5 labels.
function deep_name(query)
  return query.labels > 5
end

-- A load-balancing policy: the first server that is up and has the fewest
-- queries in flight, preferring lower `order`; nil when none is up (the
-- pool's on_no_server then answers).
function first_up(servers, query)
  local best = nil
  for i, s in ipairs(servers) do
    if s.up and (best == nil or s.order < servers[best].order or
                 (s.order == servers[best].order and s.outstanding < servers[best].outstanding)) then
      best = i
    end
  end
  return best
end

-- A response hook: a backend's SERVFAIL for a silenced name becomes REFUSED
-- (the client stops retrying); every other answer is kept.
function calm_servfail(query, answer)
  if answer.rcode == 2 then return "rcode", "REFUSED" end
  return "keep"
end
