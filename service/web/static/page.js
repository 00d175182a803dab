// Small page behaviours that the Content-Security-Policy keeps out of the HTML (no inline script,
// no onclick=): links back to the previous page, and print buttons on the notices.
(function () {
  document.addEventListener('click', function (event) {
    var target = event.target.closest ? event.target.closest('[data-back], [data-print]') : null;
    if (!target) { return; }
    if (target.hasAttribute('data-print')) {
      event.preventDefault();
      window.print();
    } else if (window.history.length > 1) {
      // Without a history (a page opened directly) the link's own href, the start page, is used.
      event.preventDefault();
      window.history.back();
    }
  });
})();
