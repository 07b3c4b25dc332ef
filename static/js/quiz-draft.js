// Saves the quiz answers as a draft each time one changes, so leaving the page loses nothing.
// Progressive enhancement: without JavaScript, the "Save and come back later" button does the same.
const form = document.querySelector("form[data-draft-url]");
const status = document.getElementById("draft-status");
const FAILED = "Your answers could not be saved just now. Use “Save and come back later”.";

function say(text) {
  if (status && status.textContent !== text) {
    status.textContent = text;
  }
}

if (form) {
  // One save at a time; changes made meanwhile are sent together once it is done. Nothing is sent once the
  // form is being submitted.
  let saving = false;
  let again = false;
  let submitting = false;
  const save = () => {
    if (submitting) {
      return;
    }
    if (saving) {
      again = true;
      return;
    }
    saving = true;
    fetch(form.dataset.draftUrl, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    })
      .then((response) => say(response.ok ? "Your answers are saved as you go." : FAILED))
      .catch(() => say(FAILED))
      .finally(() => {
        saving = false;
        if (again) {
          again = false;
          save();
        }
      });
  };
  form.addEventListener("change", save);
  form.addEventListener("submit", () => {
    submitting = true;
  });
}
