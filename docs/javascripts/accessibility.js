// What Material adds in the browser, where the build's accessibility rewrites
// (docs/plugin/llmarch_guide/markup.py) cannot reach it, fixed now and whenever Material adds it:
// * Each code block's copy button is wrapped in a <nav>: a page with several code blocks had
//   several unnamed navigation landmarks (axe: landmark-unique). A copy button is not
//   navigation, so its wrapper loses the landmark role.
// * Each table is wrapped in a box that scrolls sideways when the table is wider than the
//   column (an API parameter table on a phone); a keyboard reaches it only if it can take the
//   focus (axe: scrollable-region-focusable), as Material's code blocks can.
(() => {
  const FIXES = [
    ["nav.md-code__nav:not([role])", (nav) => nav.setAttribute("role", "none")],
    [".md-typeset__scrollwrap:not([tabindex])", (box) => box.setAttribute("tabindex", "0")],
  ];
  const fix = (root) => {
    for (const [selector, apply] of FIXES) {
      if (root.matches?.(selector)) apply(root);
      root.querySelectorAll?.(selector).forEach(apply);
    }
  };
  new MutationObserver((records) => {
    for (const record of records) record.addedNodes.forEach(fix);
  }).observe(document.body, { childList: true, subtree: true });
  fix(document);
})();
