-- Top-level code that fails when the file is loaded (line 3).
function deep_name(query) return true end
local x = nil + 1
