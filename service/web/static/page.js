// Small page behaviours that the Content-Security-Policy keeps out of the HTML (no inline script,
// no onclick=): links back to the previous page, print buttons on the notices, the phone menu,
// list tables read as cards on a phone, and the new-application form following the chosen process.
(function () {
  document.addEventListener('click', function (event) {
    var target = event.target.closest ? event.target.closest('[data-back], [data-print], .menu-toggle') : null;
    if (!target) { return; }
    if (target.classList.contains('menu-toggle')) {
      // The phone menu: the navigation and the account links fold under one button.
      var bar = target.closest('.topbar');
      var open = !bar.classList.contains('open');
      bar.classList.toggle('open', open);
      target.setAttribute('aria-expanded', open ? 'true' : 'false');
    } else if (target.hasAttribute('data-print')) {
      event.preventDefault();
      window.print();
    } else if (window.history.length > 1) {
      // Without a history (a page opened directly) the link's own href, the start page, is used.
      event.preventDefault();
      window.history.back();
    }
  });

  function ready() {
    // The menu folds only where this script runs: without it the navigation stays open and wraps.
    document.documentElement.classList.add('js');
    // On a phone each row of a list becomes a card: every cell names its column (CSS shows it).
    Array.prototype.forEach.call(document.querySelectorAll('table.list'), function (table) {
      var heads = Array.prototype.map.call(table.querySelectorAll('thead th'), function (th) {
        return th.textContent.trim();
      });
      if (!heads.length) { return; }
      table.classList.add('stack');
      Array.prototype.forEach.call(table.querySelectorAll('tbody tr'), function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.children, function (cell) {
          if (!cell.hasAttribute('data-label') && heads[column] && cell.colSpan === 1) {
            cell.setAttribute('data-label', heads[column]);
          }
          column += cell.colSpan || 1;
        });
      });
    });
    // 新申请: choosing another process shows its start form at once (the server renders it).
    Array.prototype.forEach.call(document.querySelectorAll('[data-follow-choice] input[type=radio]'), function (radio) {
      radio.addEventListener('change', function () {
        // data-follow-choice holds the address up to the value: /cases/new?process=
        var base = radio.closest('[data-follow-choice]').getAttribute('data-follow-choice');
        window.location.assign(base + encodeURIComponent(radio.value));
      });
    });
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', ready);
  } else {
    ready();
  }
})();
