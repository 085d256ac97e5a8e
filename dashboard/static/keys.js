// Copy button of the newly generated key: the Clipboard API, or select-and-copy where it is unavailable.
document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("copy-key");
  if (!button) return;
  const input = document.getElementById(button.dataset.target);
  const status = document.getElementById("copy-status");
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(input.value);
    } catch (err) {
      input.select();
      document.execCommand("copy");
    }
    button.textContent = "Copied";
    status.textContent = "Copied to the clipboard.";
  });
});
