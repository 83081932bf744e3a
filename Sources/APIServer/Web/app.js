// The Cloister approval page: sign in, see the tasks that wait for you, read what a task will
// run over what, approve or decline it, follow its state and download your encrypted outputs.
// It only calls the HTTP API of the server that served it (/v1, docs/api.md); every value from
// the API is shown as text (textContent), never as HTML.
"use strict";

const session = { token: null, user: null, role: null };
let tasks = [];
let selectedId = null;
let followGeneration = 0;
let refreshTimer = null;

const $ = (id) => document.getElementById(id);

/** Calls the API; the parsed JSON answer, or an Error with the API's message and status. */
async function api(method, path, body) {
  const headers = {};
  if (session.token) headers.Authorization = "Bearer " + session.token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch("/v1" + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
  if (!response.ok) {
    const error = new Error(data && data.error ? data.error.message : response.status + " " + response.statusText);
    error.status = response.status;
    throw error;
  }
  return data;
}

function show(message, ok) {
  const element = $("message");
  element.textContent = message;
  element.className = ok ? "ok" : "";
  element.hidden = !message;
}

/** Runs an action; shows its error (and signs out when the token no longer works). */
async function attempt(action) {
  try {
    await action();
  } catch (error) {
    if (error.status === 401 && session.token) {
      forget();
      show("Your session ended (" + error.message + "): sign in again.");
    } else {
      show(error.message);
    }
  }
}

function remember(answer) {
  session.token = answer.token;
  session.user = answer.user.id;
  session.role = answer.user.role;
  sessionStorage.setItem("cloister.session", JSON.stringify(session));
}

function forget() {
  session.token = session.user = session.role = null;
  sessionStorage.removeItem("cloister.session");
  selectedId = null;
  followGeneration += 1;
  clearInterval(refreshTimer);
  render();
}

function render() {
  const signedIn = Boolean(session.token);
  $("sign-in").hidden = signedIn;
  $("tasks").hidden = !signedIn;
  $("who").hidden = !signedIn;
  $("signed-in-as").textContent = session.user || "";
  $("signed-in-role").textContent = session.role || "";
  if (signedIn) renderTasks();
}

/** What a task waits for, and what it waits for from the signed-in user (as TaskProgress in the Swift client). */
function progress(task) {
  const waiting = [];
  const mine = [];
  if (task.state === "Created") {
    for (const [kind, ownership, assigned] of [
      ["input", task.inputs_ownership, task.assigned_inputs],
      ["output", task.outputs_ownership, task.assigned_outputs],
    ]) {
      for (const name of Object.keys(ownership).sort()) {
        if (assigned[name]) continue;
        waiting.push(ownership[name].join(" or ") + " to assign " + kind + " " + name);
        if (ownership[name].includes(session.user)) mine.push("assign " + kind + " " + name + " (cloister task assign)");
      }
    }
  } else if (task.state === "DataAssigned") {
    const pending = task.participants.filter((user) => !task.approved_by.includes(user));
    waiting.push("approval by " + pending.join(", "));
    if (pending.includes(session.user)) mine.push("approve it");
  } else if (task.state === "Approved") {
    waiting.push(task.creator + " to invoke it");
    if (task.creator === session.user) mine.push("invoke it");
  } else if (task.state === "Staged") {
    waiting.push("a worker");
  }
  return { waiting, mine };
}

// What the task's function may reach over the network, which an approval covers.
function networkText(network) {
  if (!network) return "none: the function has no network";
  const list = (entries, format) => (entries && entries.length ? entries.map(format).join(", ") : "none");
  return "connect to " + list(network.connect, (d) => d.host + ":" + (d.port || "any port")) +
    "; listen at " + list(network.listen, (l) => l.address + ":" + (l.port || "any port"));
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function renderTasks() {
  const list = $("task-list");
  list.replaceChildren();
  const waitingList = $("waiting-list");
  waitingList.replaceChildren();
  for (const task of tasks) {
    const row = document.createElement("tr");
    row.className = "selectable" + (task.id === selectedId ? " selected" : "");
    row.dataset.taskId = task.id;
    cell(row, task.id);
    cell(row, task.function_name);
    cell(row, task.creator);
    cell(row, task.state, "state-" + task.state);
    cell(row, new Date(task.updated_at).toLocaleString());
    row.addEventListener("click", () => select(task.id));
    list.appendChild(row);
    const { mine } = progress(task);
    if (mine.length) {
      const item = document.createElement("li");
      item.dataset.taskId = task.id;
      const link = document.createElement("a");
      link.href = "#" + task.id;
      link.textContent = task.function_name + " — " + task.id;
      link.addEventListener("click", (event) => { event.preventDefault(); select(task.id); });
      item.appendChild(link);
      item.appendChild(document.createTextNode(": " + mine.join(" and ") + " (" + task.state + ")"));
      waitingList.appendChild(item);
    }
  }
  $("waiting-empty").hidden = waitingList.children.length > 0;
  const selected = tasks.find((task) => task.id === selectedId);
  $("task").hidden = !selected;
  if (selected) renderTask(selected);
}

function fileRows(body, ownership, assigned, tags, isOutput) {
  body.replaceChildren();
  for (const name of Object.keys(ownership).sort()) {
    const row = document.createElement("tr");
    row.dataset.name = name;
    cell(row, name);
    cell(row, ownership[name].join(", "));
    const fileId = assigned[name];
    cell(row, fileId || "not assigned yet");
    if (isOutput) {
      cell(row, (tags && tags[name]) || "");
      const action = cell(row, "");
      if (fileId && tags && tags[name] && ownership[name].includes(session.user)) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "download";
        button.dataset.output = fileId;
        button.textContent = "Download (encrypted)";
        button.addEventListener("click", () => attempt(() => download(fileId)));
        action.appendChild(button);
      }
    }
    body.appendChild(row);
  }
}

function renderTask(task) {
  $("task-id").textContent = task.id;
  $("task-state").textContent = task.state;
  $("task-state").className = "state-" + task.state;
  const { waiting, mine } = progress(task);
  $("task-waiting").textContent = mine.length ? "— waits for you to " + mine.join(" and ")
    : waiting.length ? "— waiting for " + waiting.join("; ") : "";
  $("task-reason").hidden = !task.reason;
  $("task-reason").textContent = task.reason ? "Reason: " + task.reason : "";
  $("function-name").textContent = task.function_name;
  $("function-id").textContent = task.function_id;
  $("function-owner").textContent = task.function_owner;
  $("payload-sha256").textContent = task.payload_sha256;
  $("task-executor").textContent = task.executor;
  $("task-creator").textContent = task.creator;
  const argumentsBody = $("task-arguments");
  argumentsBody.replaceChildren();
  for (const key of Object.keys(task.function_arguments).sort()) {
    const row = document.createElement("tr");
    cell(row, key);
    cell(row, task.function_arguments[key]);
    argumentsBody.appendChild(row);
  }
  $("task-network").textContent = networkText(task.network);
  const tags = task.result ? task.result.output_tags : null;
  fileRows($("task-inputs"), task.inputs_ownership, task.assigned_inputs, null, false);
  fileRows($("task-outputs"), task.outputs_ownership, task.assigned_outputs, tags, true);
  const participants = $("task-participants");
  participants.replaceChildren();
  for (const user of task.participants) {
    const item = document.createElement("li");
    item.textContent = user + (task.approved_by.includes(user) ? " — approved" : " — has not approved");
    participants.appendChild(item);
  }
  const open = ["Created", "DataAssigned", "Approved"].includes(task.state);
  $("approve").hidden = !(task.state === "DataAssigned" && !task.approved_by.includes(session.user));
  $("decline").hidden = !open;
  $("invoke").hidden = !(task.state === "Approved" && task.creator === session.user);
  $("task-result").hidden = !task.result;
  if (task.result) {
    $("result-value").textContent = task.result.return_value;
    $("result-log").textContent = task.result.log || "(no log)";
  }
}

async function loadTasks() {
  const answer = await api("GET", "/tasks");
  tasks = answer.tasks.sort((a, b) => b.created_at.localeCompare(a.created_at));
  renderTasks();
}

function replaceTask(task) {
  const index = tasks.findIndex((item) => item.id === task.id);
  if (index >= 0) tasks[index] = task; else tasks.unshift(task);
  renderTasks();
}

function select(id) {
  selectedId = id;
  show("");
  renderTasks();
  follow(id);
}

/** Follows the selected task with the server's long poll (GET /v1/tasks/{id}?wait=&state=) until it ends. */
async function follow(id) {
  const generation = ++followGeneration;
  let known = null;
  while (generation === followGeneration && session.token) {
    try {
      // First the task as it is, then one call per change of state (or per 25 s).
      const query = known ? "?wait=25&state=" + encodeURIComponent(known) : "";
      const task = await api("GET", "/tasks/" + encodeURIComponent(id) + query);
      if (generation !== followGeneration) return;
      replaceTask(task);
      known = task.state;
      if (["Finished", "Failed", "Canceled"].includes(task.state)) return;
    } catch (error) {
      if (generation === followGeneration) show(error.message);
      return;
    }
  }
}

async function act(action, label) {
  if (!selectedId) return;
  await attempt(async () => {
    const task = await api("POST", "/tasks/" + encodeURIComponent(selectedId) + "/" + action);
    replaceTask(task);
    show(label + ": the task is " + task.state + ".", true);
    follow(task.id);
  });
}

async function download(fileId) {
  const response = await fetch("/v1/outputs/" + encodeURIComponent(fileId) + "/content", {
    headers: { Authorization: "Bearer " + session.token },
  });
  if (!response.ok) {
    let message = response.status + " " + response.statusText;
    try { message = (await response.json()).error.message; } catch (_) { /* keep the status */ }
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  const blob = await response.blob();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = fileId + ".enc";
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
  show("Saved " + fileId + ".enc (" + blob.size + " bytes, still encrypted: decrypt it with your key).", true);
}

function startRefreshing() {
  clearInterval(refreshTimer);
  refreshTimer = setInterval(() => { if (session.token) attempt(loadTasks); }, 5000);
}

document.addEventListener("DOMContentLoaded", () => {
  $("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(async () => {
      const answer = await api("POST", "/auth/login", { id: $("login-user").value, password: $("login-password").value });
      $("login-password").value = "";
      remember(answer);
      show("");
      render();
      await loadTasks();
      startRefreshing();
    });
  });
  $("sign-out").addEventListener("click", () => attempt(async () => {
    try { await api("POST", "/auth/logout"); } finally { forget(); }
  }));
  $("refresh").addEventListener("click", () => attempt(loadTasks));
  $("approve").addEventListener("click", () => act("approve", "Approved"));
  $("decline").addEventListener("click", () => act("decline", "Declined"));
  $("invoke").addEventListener("click", () => act("invoke", "Invoked"));
  const saved = sessionStorage.getItem("cloister.session");
  if (saved) {
    try { Object.assign(session, JSON.parse(saved)); } catch (_) { sessionStorage.removeItem("cloister.session"); }
  }
  render();
  if (session.token) {
    attempt(loadTasks);
    startRefreshing();
  }
});
