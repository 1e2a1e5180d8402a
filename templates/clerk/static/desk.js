// The inbox's "select all": ticks every enabled row box of the bulk form (no framework).
document.addEventListener("change", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement) || !box.dataset.selectAll) return;
  const form = box.form;
  if (!form) return;
  for (const row of form.querySelectorAll(`input[name="${box.dataset.selectAll}"]:not(:disabled)`)) {
    row.checked = box.checked;
  }
});
