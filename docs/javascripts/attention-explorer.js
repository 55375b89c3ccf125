// The interactive attention figure. A snippet saves an llmarch.plotting.AttentionExplorer as an
// SVG whose name ends in `.explorer.svg`: a picture of one head (what shows without JavaScript,
// and in the notebook) with every weight inside, as JSON in its <metadata>. The page shows it as
// an ordinary figure; this script reads the same file and puts the explorer in the picture's
// place: the reader picks a text, a layer and a head, and points at a token (mouse) or moves to
// it (Tab, then the arrow keys) to see how that token divides its attention among the tokens up
// to it. Plain DOM, no library, no request to any other host. If anything fails (no fetch on
// file://, an old browser), the picture stays.
(() => {
  "use strict";
  const DATA_ID = "llmarch-attention-data";
  const SVG_NS = "http://www.w3.org/2000/svg";
  const shown = (token) => token.replace(/ /g, "\u2423").replace(/\n/g, "\u21b5");
  const spoken = (token) => (token === " " ? "space" : token === "\n" ? "new line" : `"${token}"`);
  let counter = 0;

  const element = (tag, attributes = {}, text = "") => {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, value);
    if (text) el.textContent = text;
    return el;
  };

  const choice = (label, count, name, id) => {
    const wrapper = element("label", { class: "llmarch-explorer__choice", for: id }, label + " ");
    const select = element("select", { id });
    for (let i = 0; i < count; i += 1) select.append(element("option", { value: String(i) }, name(i)));
    wrapper.append(select);
    return [wrapper, select];
  };

  async function readData(img) {
    const response = await fetch(img.currentSrc || img.src);
    if (!response.ok) return null;
    const svg = new DOMParser().parseFromString(await response.text(), "image/svg+xml");
    const meta = svg.getElementById(DATA_ID);
    return meta ? JSON.parse(meta.textContent) : null;
  }

  function build(img, data) {
    const id = `llmarch-explorer-${(counter += 1)}`;
    const state = { text: 0, layer: 0, head: 0, query: 0, pointed: null };
    const figure = element("figure", { class: "llmarch-explorer", "aria-labelledby": `${id}-caption` });
    const caption = element("figcaption", { id: `${id}-caption`, class: "llmarch-explorer__caption" });
    caption.textContent =
      `${data.title}. Choose a text, a layer and a head; then point at a token, or tab to the ` +
      "tokens and move with the arrow keys, to see where it looks.";

    const controls = element("div", { class: "llmarch-explorer__controls" });
    const opening = (i) => `${i + 1}: ${data.texts[i].tokens.join("").slice(0, 24)}…`;
    const [textLabel, textSelect] = choice("Text", data.texts.length, opening, `${id}-text`);
    const [layerLabel, layerSelect] = choice("Layer", data.layers, (i) => String(i), `${id}-layer`);
    const [headLabel, headSelect] = choice("Head", data.heads, (i) => String(i), `${id}-head`);
    controls.append(textLabel, layerLabel, headLabel);

    const strip = element("div", {
      class: "llmarch-explorer__tokens",
      role: "toolbar",
      "aria-label": "Tokens of the text: each shows, when focused, how much attention it pays to each token before it",
    });
    const readout = element("p", { class: "llmarch-explorer__readout", "aria-live": "polite", id: `${id}-readout` });
    const matrix = document.createElementNS(SVG_NS, "svg");
    matrix.setAttribute("class", "llmarch-explorer__matrix");
    matrix.setAttribute("role", "img");
    figure.append(caption, controls, strip, readout, matrix);

    const tokens = () => data.texts[state.text].tokens;

    function drawText() {
      const text = tokens();
      strip.replaceChildren();
      text.forEach((token, position) => {
        const button = element("button", {
          type: "button",
          class: "llmarch-explorer__token",
          "data-position": String(position),
          tabindex: position === state.query ? "0" : "-1",
          "aria-label": `${spoken(token)}, position ${position}`,
          "aria-describedby": `${id}-readout`,
        });
        button.append(element("span", { class: "llmarch-explorer__glyph", "aria-hidden": "true" }, shown(token)));
        button.append(element("span", { class: "llmarch-explorer__bar", "aria-hidden": "true" }));
        strip.append(button);
      });
      // The matrix: one row per query, one column per key, darker where the weight is larger.
      const n = text.length;
      matrix.replaceChildren();
      matrix.setAttribute("viewBox", `0 0 ${n} ${n}`);
      const cells = document.createElementNS(SVG_NS, "g");
      for (let q = 0; q < n; q += 1) {
        for (let k = 0; k <= q; k += 1) {
          const cell = document.createElementNS(SVG_NS, "rect");
          const place = { x: k, y: q, width: 1, height: 1, "data-query": q };
          Object.entries(place).forEach(([a, v]) => cell.setAttribute(a, v));
          cells.append(cell);
        }
      }
      const outline = document.createElementNS(SVG_NS, "rect");
      outline.setAttribute("class", "llmarch-explorer__row");
      matrix.append(cells, outline);
      drawWeights();
    }

    function drawWeights() {
      const head = data.texts[state.text].weights[state.layer][state.head];
      const cells = matrix.querySelectorAll("g > rect");
      let i = 0;
      head.forEach((weights) => weights.forEach((w) => {
        cells[i].setAttribute("fill-opacity", (w / data.scale).toFixed(3));
        i += 1;
      }));
      matrix.setAttribute(
        "aria-label",
        `Attention weights of layer ${state.layer}, head ${state.head} over text ${state.text + 1}: ` +
          "one row per token, one column per token it may look at (itself and those before it); darker is more weight",
      );
      drawRow();
    }

    function drawRow() {
      const query = state.pointed ?? state.query;
      const weights = data.texts[state.text].weights[state.layer][state.head][query];
      const text = tokens();
      strip.querySelectorAll("button").forEach((button, position) => {
        const w = position <= query ? weights[position] / data.scale : 0;
        button.style.setProperty("--weight", w.toFixed(3));
        button.classList.toggle("is-query", position === query);
        button.classList.toggle("is-masked", position > query);
      });
      const outline = matrix.querySelector(".llmarch-explorer__row");
      Object.entries({ x: 0, y: query, width: query + 1, height: 1 }).forEach(([a, v]) => outline.setAttribute(a, v));
      const best = weights
        .map((w, position) => [w, position])
        .sort((a, b) => b[0] - a[0])
        .slice(0, 3)
        .map(([w, position]) => `${spoken(text[position])} at ${position} (${(w / data.scale).toFixed(2)})`);
      readout.textContent =
        `Layer ${state.layer}, head ${state.head}: ${spoken(text[query])} at position ${query} ` +
        `looks most at ${best.join(", ")}.`;
    }

    function focusToken(position) {
      const buttons = strip.querySelectorAll("button");
      const target = Math.max(0, Math.min(buttons.length - 1, position));
      buttons.forEach((b, i) => b.setAttribute("tabindex", i === target ? "0" : "-1"));
      state.query = target;
      state.pointed = null;
      buttons[target].focus();
      drawRow();
    }

    strip.addEventListener("keydown", (event) => {
      const moves = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };
      if (event.key in moves) focusToken(state.query + moves[event.key]);
      else if (event.key === "Home") focusToken(0);
      else if (event.key === "End") focusToken(tokens().length - 1);
      else return;
      event.preventDefault();
    });
    strip.addEventListener("focusin", (event) => {
      const button = event.target.closest("button");
      if (button && Number(button.dataset.position) !== state.query) focusToken(Number(button.dataset.position));
    });
    strip.addEventListener("click", (event) => {
      const button = event.target.closest("button");
      if (button) focusToken(Number(button.dataset.position));
    });
    const point = (position) => {
      state.pointed = position;
      drawRow();
    };
    strip.addEventListener("mouseover", (event) => {
      const button = event.target.closest("button");
      if (button) point(Number(button.dataset.position));
    });
    matrix.addEventListener("mouseover", (event) => {
      const query = event.target.getAttribute("data-query");
      if (query !== null) point(Number(query));
    });
    for (const area of [strip, matrix]) area.addEventListener("mouseleave", () => point(null));

    textSelect.addEventListener("change", () => {
      state.text = Number(textSelect.value);
      state.query = Math.min(state.query, tokens().length - 1);
      drawText();
    });
    layerSelect.addEventListener("change", () => {
      state.layer = Number(layerSelect.value);
      drawWeights();
    });
    headSelect.addEventListener("change", () => {
      state.head = Number(headSelect.value);
      drawWeights();
    });

    state.query = tokens().length - 1;
    const picture = img.closest("a") || img; // the figure's link to itself (the build adds it)
    picture.after(figure);
    picture.style.display = "none"; // not `hidden`: the theme's CSS gives the link display: block
    drawText();
    figure.dataset.ready = "true";
  }

  const start = () => {
    document.querySelectorAll('img[src$=".explorer.svg"]').forEach((img) => {
      if (img.dataset.explorer) return;
      img.dataset.explorer = "loading";
      readData(img)
        .then((data) => (data ? build(img, data) : null))
        .catch(() => null); // the picture stays: it shows the same weights for one layer
    });
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
