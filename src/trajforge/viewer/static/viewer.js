// trajforge view: the page's only script (the Content-Security-Policy allows no other).
// Keys: j / k next / previous trace; on the list, j / k move through the rows and Enter opens one.
"use strict";

function typing(event) {
  const t = event.target;
  return t && (t.isContentEditable || ["INPUT", "SELECT", "TEXTAREA"].includes(t.tagName));
}

function go(selector) {
  const link = document.querySelector(selector);
  if (link) window.location.assign(link.getAttribute("href"));
}

function listKeys(event) {
  const rows = Array.from(document.querySelectorAll("#traces tbody tr"));
  if (!rows.length) return false;
  let at = rows.findIndex((r) => r.classList.contains("current"));
  if (event.key === "Enter" && at >= 0) {
    window.location.assign(rows[at].dataset.href);
    return true;
  }
  if (event.key !== "j" && event.key !== "k") return false;
  if (at >= 0) rows[at].classList.remove("current");
  at = event.key === "j" ? Math.min(at + 1, rows.length - 1) : Math.max(at - 1, 0);
  rows[at].classList.add("current");
  rows[at].scrollIntoView({ block: "nearest" });
  return true;
}

document.addEventListener("keydown", (event) => {
  if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) return;
  if (document.body.classList.contains("trace-page")) {
    if (event.key === "j") go("#next");
    else if (event.key === "k") go("#prev");
    else return;
    event.preventDefault();
  } else if (listKeys(event)) {
    event.preventDefault();
  }
});

document.addEventListener("click", (event) => {
  const button = event.target.closest ? event.target.closest("button.show-all") : null;
  if (!button) return;
  const output = button.previousElementSibling;
  const folded = output.classList.toggle("folded");
  button.textContent = folded ? button.dataset.label : "fold";
});

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button.show-all")) button.dataset.label = button.textContent;
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.submit());
  }
  const copy = document.getElementById("copy-json");
  if (copy) copy.addEventListener("click", () => copyRow(copy));
});

async function copyRow(button) {
  const status = document.getElementById("copy-status");
  try {
    const response = await fetch(button.dataset.src, { credentials: "same-origin" });
    const text = await response.text();
    try {
      await navigator.clipboard.writeText(text);  // needs a secure context (127.0.0.1 is one) and focus
    } catch (refused) {
      const area = document.createElement("textarea");
      area.value = text;
      document.body.appendChild(area);
      area.select();
      const copied = document.execCommand("copy");
      area.remove();
      if (!copied) throw refused;
    }
    status.textContent = `copied ${text.length.toLocaleString()} characters`;
  } catch (error) {
    status.textContent = "could not copy: " + error;
  }
}
