// Shows the gateway's health until the full client lands.
(async () => {
  const status = document.getElementById('status');
  try {
    const res = await fetch('/api/health');
    const health = await res.json();
    status.textContent = `voxgate ${health.version} is ${health.status}, up ${health.uptime_seconds} s.`;
  } catch (err) {
    status.textContent = `The gateway cannot be reached: ${err}`;
  }
})();
