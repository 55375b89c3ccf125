// Material wraps each code block's copy button in a <nav>, added in the browser, so the build's
// accessibility rewrites (docs/plugin/llmarch_guide/markup.py) cannot reach it: a page with several code blocks
// had several unnamed navigation landmarks (axe: landmark-unique). A copy button is not
// navigation, so its wrapper loses the landmark role, now and whenever Material adds one.
(() => {
  const SELECTOR = "nav.md-code__nav:not([role])";
  const demote = (root) => {
    if (root.matches?.(SELECTOR)) root.setAttribute("role", "none");
    root.querySelectorAll?.(SELECTOR).forEach((nav) => nav.setAttribute("role", "none"));
  };
  new MutationObserver((records) => {
    for (const record of records) record.addedNodes.forEach(demote);
  }).observe(document.body, { childList: true, subtree: true });
  demote(document);
})();
