// Polls the manual sync while it runs and reloads the page when it ends; textContent only, nothing parsed as HTML.
(function () {
  var bar = document.getElementById('sync-bar');
  if (!bar || bar.dataset.state !== 'RUNNING') return;
  function poll() {
    fetch('/__sandbox__/px/sync').then(function (r) { return r.json(); }).then(function (job) {
      bar.value = Math.round(job.progress * 100);
      document.getElementById('sync-text').textContent = job.state + ' ' + job.done + '/' + job.total;
      if (job.state === 'RUNNING') setTimeout(poll, 300);
      else location.reload();
    });
  }
  setTimeout(poll, 300);
})();
