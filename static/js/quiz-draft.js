// Saves the quiz answers as a draft each time one changes, so leaving the page loses nothing.
// Progressive enhancement: without JavaScript, the "Save and come back later" button does the same.
const form = document.querySelector("form[data-draft-url]");
const status = document.getElementById("draft-status");

function say(text) {
  if (status && status.textContent !== text) {
    status.textContent = text;
  }
}

if (form) {
  let queue = Promise.resolve();
  form.addEventListener("change", () => {
    const body = new FormData(form);
    // One save at a time, in order, so the last answer given is the one kept.
    queue = queue
      .then(() => fetch(form.dataset.draftUrl, {
        method: "POST", body, credentials: "same-origin", headers: { "X-Requested-With": "fetch" },
      }))
      .then((response) => {
        say(response.ok ? "Your answers are saved as you go."
          : "Your answers could not be saved just now. Use “Save and come back later”.");
      })
      .catch(() => say("Your answers could not be saved just now. Use “Save and come back later”."));
  });
}
