"use strict";
// The page: polls the JSON API once a second (docs/api.md).
document.getElementById("status").textContent = "dnspc";
