// Shows whether InvokeAI answers, refreshed every five seconds.
const upstream = document.getElementById("upstream");

async function refresh() {
  try {
    const response = await fetch("/readyz", { cache: "no-store" });
    const body = await response.json();
    if (response.ok) {
      upstream.textContent = `InvokeAI ${body.invokeai.version} at ${body.invokeai.url}: ready`;
      upstream.className = "ready";
    } else {
      upstream.textContent = `InvokeAI not ready: ${body.detail}`;
      upstream.className = "down";
    }
  } catch (error) {
    upstream.textContent = `Gateway unreachable: ${error}`;
    upstream.className = "down";
  }
}

refresh();
setInterval(refresh, 5000);
