// Automatic 暂存 of a task form or a new application (services/drafts.py): every 20 seconds when something changed, and
// when the page is left or hidden (a phone switching apps). The form's own fields are sent, the
// CSRF token among them; files are not (they go with 暂存 or the submit). Restoring is the server's
// job: the task page comes back filled in with the person's own draft.
(function () {
  var form = document.querySelector('form[data-autosave]');
  if (!form || !window.fetch || !window.FormData) { return; }
  var url = form.getAttribute('data-autosave');
  // Fields that are not part of what is kept (the new application's process choice: its address says it).
  var skip = (form.getAttribute('data-autosave-skip') || '').split(' ');
  var status = document.getElementById('draft-status');
  var submitting = false;
  var last = null;

  function snapshot() {
    var data = new FormData(form);
    var parts = [];
    var keep = new FormData();
    data.forEach(function (value, key) {
      if (typeof value !== 'string' || skip.indexOf(key) >= 0) { return; }   // a chosen file, a skipped field
      keep.append(key, value);
      if (key !== 'csrf_token') { parts.push(key + '=' + value); }
    });
    return { body: keep, key: parts.join('&') };
  }

  function save(leaving) {
    if (submitting) { return; }
    var now = snapshot();
    if (now.key === last) { return; }
    if (leaving && navigator.sendBeacon) {
      if (navigator.sendBeacon(url, now.body)) { last = now.key; }
      return;
    }
    fetch(url, { method: 'POST', body: now.body, credentials: 'same-origin', keepalive: !!leaving })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (answer && answer.saved_at_zh) {
          last = now.key;
          if (status) { status.textContent = '已自动暂存（' + answer.saved_at_zh + '）'; }
        }
      })
      .catch(function () { /* offline for a moment: the next round tries again */ });
  }

  last = snapshot().key;   // what the page came with needs no saving
  form.addEventListener('submit', function (event) {
    // 暂存 and 提交 both post the form themselves: no automatic save races them.
    submitting = true;
  });
  window.setInterval(function () { save(false); }, 20000);
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'hidden') { save(true); }
  });
  window.addEventListener('pagehide', function () { save(true); });
})();
