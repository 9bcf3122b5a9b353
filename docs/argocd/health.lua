-- Argo CD health check for every bootplane.io kind. bootplane writes standard conditions with
-- observedGeneration; Ready summarises each object.
local hs = {}
local progressing = {
  Pending = true, Progressing = true, Installing = true, Downloading = true, Attaching = true,
  Provisioning = true, Stopping = true, WaitingForPowerOff = true, TaskRunning = true,
  NotConnected = true, DriverNotAvailable = true,
}

if obj.status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for bootplane to reconcile"
  return hs
end
local generation = obj.metadata.generation or 0
if obj.status.observedGeneration ~= nil and obj.status.observedGeneration < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for bootplane to observe generation " .. generation
  return hs
end
if obj.kind == "DisklessSession" and obj.status.phase == "Stopped" then
  hs.status = "Suspended"
  hs.message = "Session stopped"
  return hs
end
if obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Ready" then
      local message = c.reason
      if c.message ~= nil and c.message ~= "" then message = c.reason .. ": " .. c.message end
      if c.status == "True" then
        hs.status = "Healthy"
      elseif c.status == "False" and not progressing[c.reason] then
        hs.status = "Degraded"
      else
        hs.status = "Progressing"
      end
      hs.message = message
      return hs
    end
  end
end
hs.status = "Progressing"
hs.message = "Waiting for the Ready condition"
return hs
