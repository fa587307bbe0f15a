// Small helpers for the dashboard's calls to its own API (same origin, the session cookie).
// A request that changes state carries X-Requested-With: the server's CSRF rule.

export async function getJSON(path) {
  const response = await fetch(path, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

export async function send(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-Requested-With": "fetch" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const problem = data || {};
    const error = new Error(problem.detail || problem.title || `${response.status}`);
    error.problem = problem;
    throw error;
  }
  return data;
}

export function areaPath(slug, rest) {
  return `/api/v1/areas/${encodeURIComponent(slug)}${rest}`;
}
