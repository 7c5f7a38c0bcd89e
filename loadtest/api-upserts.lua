-- wrk script: every request is a real write (a new URL for one of 100 routes), so each one is a
-- transaction that updates an endpoint row and inserts its outbox event. Run with one wrk thread
-- so the counter, and so every URL, is unique.
local token = os.getenv("TM_BENCH_TOKEN")
local tenant = os.getenv("TM_BENCH_TENANT")
local counter = 0

request = function()
  counter = counter + 1
  local path = "/v1/routes/" .. tenant .. "/svc/prod/v" .. (counter % 100)
  local body = '{"url":"http://svc-' .. counter .. ':8080/api"}'
  return wrk.format("PUT", path, {["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json"}, body)
end

local failures = 0
response = function(status, headers, body)
  if status ~= 200 and status ~= 201 then
    failures = failures + 1
    if failures <= 3 then print("unexpected " .. status .. ": " .. body) end
  end
end
