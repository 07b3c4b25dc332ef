// Saves the quiz answers as a draft each time one changes, so leaving the page loses nothing.
// Progressive enhancement: without JavaScript, the "Save and come back later" button does the same.
const form = document.querySelector("form[data-draft-url]");
const status = document.getElementById("draft-status");
const FAILED = "Your answers could not be saved just now. Use “Save and come back later”.";
const SAVING = "Saving your answers…";
const SAVED = "Your answers are saved as you go.";

function say(text) {
  if (status && status.textContent !== text) {
    status.textContent = text;
  }
}

if (form) {
  // One save at a time; changes made meanwhile are sent together once it is done. Nothing is sent once the
  // form is being submitted. "Saved" is said only when the newest answers have reached the server, so someone
  // who leaves the page on seeing it loses nothing (each save sends the whole form: the last one decides).
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
    say(SAVING);
    let saved = false;
    fetch(form.dataset.draftUrl, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    })
      .then((response) => {
        saved = response.ok;
      })
      .catch(() => {
        saved = false;
      })
      .finally(() => {
        saving = false;
        if (again) {
          again = false;
          save();
        } else {
          say(saved ? SAVED : FAILED);
        }
      });
  };
  form.addEventListener("change", save);
  form.addEventListener("submit", () => {
    submitting = true;
  });
}
