// tst_webui's layout checks: each runs in the page and returns what is wrong (an empty list
// when all is well), so a failure names the rows and cells at fault.

// Rows whose percentage is not whole inside its cell or overlaps the status badge (a 45 % bar
// in a content-sized cell cut it to "1…" beside the badge at 390 px).
export const cutPercentages = (page) => page.$$eval('#rows tr', (trs) => trs.filter((tr) => {
  const pct = tr.querySelector('.pct'), badge = tr.querySelector('.badge');
  const range = document.createRange();
  range.selectNodeContents(pct);
  const text = range.getBoundingClientRect(), cell = pct.parentElement.getBoundingClientRect(), b = badge.getBoundingClientRect();
  const overlaps = text.left < b.right && b.left < text.right && text.top < b.bottom && b.top < text.bottom;
  return text.right > cell.right + 0.5 || text.left < cell.left - 0.5 || overlaps;
}).map((tr) => `${tr.dataset.id}: ${tr.querySelector('.pct').textContent}`));

// Status lines (badge and reason) that reach past their card at phone width: a reason in a
// cell sized to its text ran off the card and was clipped.
export const cutReasons = (page) => page.$$eval('#rows tr', (trs) => trs.filter((tr) => {
  const card = tr.getBoundingClientRect();
  return [...tr.querySelectorAll('td.status, .badge, .detail')].some((e) => {
    const r = e.getBoundingClientRect();
    return r.right > card.right + 0.5 || r.left < card.left - 0.5 || e.scrollWidth > e.clientWidth + 1;
  });
}).map((tr) => `${tr.querySelector('.name').textContent}: "${tr.querySelector('.detail').textContent}"`));

// Progress bars drawn as indeterminate (the animated "busy" bar) instead of their value.
export const indeterminateBars = (page) => page.$$eval('#rows progress',
  (bars) => bars.filter((p) => p.matches(':indeterminate')).map((p) => p.closest('tr').querySelector('.name').textContent));

// Header texts (with a sort arrow, if any) wider than their column, and values cut in a
// fixed-width cell: a badge, a size, a speed, an ETA, a priority, the date added.
export const overflowingCells = (page) => page.evaluate(() => {
  const wrong = [];
  for (const th of document.querySelectorAll('#queue thead th')) {
    if (!th.offsetWidth) continue; // a column hidden at this width
    const range = document.createRange();
    range.selectNodeContents(th);
    const text = range.getBoundingClientRect(), cell = th.getBoundingClientRect();
    if (text.right > cell.right + 0.5 || text.left < cell.left - 0.5) wrong.push(`header "${th.textContent.trim()}" ${Math.ceil(text.width)} px in ${Math.floor(cell.width)} px`);
  }
  // A cell's text-overflow: ellipsis cuts what passes its content box, padding or not.
  for (const e of document.querySelectorAll('#rows .badge, #rows td.size, #rows td.speed, #rows td.eta, #rows td.prio, #rows td.added, #rows td.prog')) {
    if (!e.offsetWidth) continue;
    const td = e.closest('td'), style = getComputedStyle(td);
    const right = td.getBoundingClientRect().right - parseFloat(style.paddingRight) - parseFloat(style.borderRightWidth);
    const range = document.createRange();
    range.selectNodeContents(e);
    const r = e.classList.contains('badge') ? e.getBoundingClientRect() : range.getBoundingClientRect();
    if (r.right > right + 0.5 || e.scrollWidth > e.clientWidth) wrong.push(`"${e.textContent}" (${e.className}) cut`);
  }
  return wrong;
});

// Where the connection indicator is after scrolling to the end of the page: null when it is
// wholly in view.
export const indicatorOutOfView = (page) => page.evaluate(async () => {
  window.scrollTo(0, document.documentElement.scrollHeight);
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const r = document.getElementById('conn').getBoundingClientRect();
  const scrolled = window.scrollY;
  const inView = r.top >= 0 && r.bottom <= window.innerHeight && r.left >= 0 && r.right <= window.innerWidth;
  window.scrollTo(0, 0);
  if (scrolled < 100) return `the page did not scroll (scrollY ${scrolled}): too few rows to tell`;
  return inView ? null : `#conn at top ${Math.round(r.top)} px after scrolling ${Math.round(scrolled)} px`;
});
