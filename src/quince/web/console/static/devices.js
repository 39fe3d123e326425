// The device list: "Select all on this page" checks or clears every row's checkbox.
document.addEventListener("change", (event) => {
  const box = event.target;
  if (box instanceof HTMLInputElement && box.id === "select-all") {
    for (const row of document.querySelectorAll('input[name="device"][form="bulk"]')) {
      row.checked = box.checked;
    }
  }
});
