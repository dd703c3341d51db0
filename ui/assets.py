"""The chat's stylesheet and its one small script (clickable `[n]`, scrolling a highlighted quote into view)."""

from __future__ import annotations

ACCENT = "#2f5d8a"  # a calm slate blue: links, the active card, focus rings (red reads as an error)
FOCUS = "#5b6b7f"

CSS = f"""
<style>
.lva-answer {{ line-height: 1.55; }}
.lva-answer p {{ margin: 0 0 0.45rem 0; }}
.lva-answer .lva-lead {{ color: #2b2f36; }}
.lva-answer .lva-note {{ color: #5a4300; }}  /* the API's own "partly covered" line, under its label */
.lva-points {{ margin: 0 0 0.2rem 0; padding-left: 1.2rem; }}
.lva-points li {{ margin: 0 0 0.35rem 0; }}
.lva-sup {{ line-height: 0; }}
a.lva-cite {{ color: {ACCENT}; text-decoration: none; font-weight: 600; font-size: 0.78rem; padding: 0 0.1rem;
  border-radius: 0.25rem; cursor: pointer; }}
a.lva-cite:hover {{ background: #e6eef7; text-decoration: underline; }}
a.lva-cite:focus-visible {{ outline: 2px solid {FOCUS}; outline-offset: 1px; }}
.lva-card-head {{ display: flex; flex-wrap: wrap; align-items: center; gap: 0.2rem 0.45rem; }}
.lva-n {{ font-weight: 700; color: {ACCENT}; }}
.lva-quote {{ border-left: 3px solid #c5cfdb; margin: 0.35rem 0 0.1rem 0; padding: 0.1rem 0.7rem;
  line-height: 1.5; }}
.lva-badge {{ display: inline-block; border-radius: 0.6rem; padding: 0.02rem 0.5rem; font-size: 0.74rem;
  font-weight: 600; }}
.lva-badge-quote {{ background: #fff4d6; color: #6b4a00; }}
.lva-badge-narrative {{ background: #e7f0ff; color: #0b3d91; }}
.lva-badge-list {{ background: #e8f5e9; color: #1b5e20; }}
.lva-section {{ color: #555; font-size: 0.84rem; }}
.lva-source {{ white-space: pre-wrap; line-height: 1.6; max-height: 60vh; overflow-y: auto;
  border: 1px solid #ddd; border-radius: 0.4rem; padding: 0.75rem; }}
.lva-source mark {{ background: #ffe58a; padding: 0 0.1rem; }}
[class*="st-key-card-"] {{ transition: background-color 0.3s, box-shadow 0.3s; scroll-margin: 5rem; }}
[class*="st-key-card-"].lva-active {{ box-shadow: 0 0 0 2px {ACCENT}; background: #f2f6fb; }}
/* The table of contents reads as a tree: left-aligned entries, subsections indented under their heading. */
[class*="st-key-toc-"] button, [class*="st-key-related-"] button {{ justify-content: flex-start; width: 100%;
  text-align: left; }}
[class*="st-key-toc-"] button > div, [class*="st-key-related-"] button > div {{ justify-content: flex-start; }}
[class*="st-key-toc-"] button p, [class*="st-key-related-"] button p {{ text-align: left; }}
[class*="st-key-suggestion-"] button > div {{ justify-content: flex-start; }}
[class*="st-key-suggestion-"] button p {{ text-align: left; }}
[class*="st-key-toc-"] button {{ min-height: 1.8rem; padding: 0.1rem 0.25rem; }}
[class*="st-key-toc-"] button:hover {{ background: #eef2f6; }}
[class*="st-key-toc-d1-"] {{ padding-left: 0.6rem; border-left: 1px solid #d5dce4; margin-left: 0.5rem; }}
[class*="st-key-related-"] button p {{ color: {ACCENT}; }}
[class*="st-key-tocgroup-"] summary {{ padding: 0.3rem 0.25rem; margin: 0; overflow: visible; opacity: 1; }}
[class*="st-key-tocgroup-"] summary, [class*="st-key-tocgroup-"] summary p {{ color: inherit; font-size: 0.875rem; }}
/* A neutral focus colour: the theme's red border reads as an error on the chat box. */
[data-testid="stChatInput"] > div:focus-within, [data-testid="stChatInput"]:focus-within,
[data-testid="stChatInputTextArea"]:focus {{ border-color: {FOCUS} !important; box-shadow: none !important; }}
[data-baseweb="input"]:focus-within, [data-baseweb="select"] > div:focus-within,
[data-baseweb="textarea"]:focus-within {{ border-color: {FOCUS} !important; }}
/* Phones: the sidebar's opener says what it is. */
[data-testid="stExpandSidebarButton"], [data-testid="stSidebarCollapsedControl"] button {{
  width: auto !important; gap: 0.25rem; padding-right: 0.5rem; }}
[data-testid="stExpandSidebarButton"]::after, [data-testid="stSidebarCollapsedControl"] button::after {{
  content: "Menu"; font-size: 0.9rem; font-weight: 600; }}
@media (max-width: 640px) {{
  .lva-source {{ max-height: 55vh; }}
  a.lva-cite {{ font-size: 0.9rem; padding: 0.2rem 0.25rem; }}  /* a finger-sized target */
}}
</style>
"""

# Runs in the page itself (st.html with unsafe_allow_javascript), once per browser tab.
SCRIPT = """
<script>
(function () {
  if (window.__lvaInstalled) { return; }
  window.__lvaInstalled = true;
  function expander(key) {
    var box = document.querySelector('.st-key-' + key);
    if (!box) { return null; }
    return box.tagName === 'DETAILS' ? box : box.querySelector('details');
  }
  function reveal(cardKey, sourcesKey) {
    var details = expander(sourcesKey);
    if (details && !details.open) {
      var summary = details.querySelector('summary');
      if (summary) { summary.click(); } else { details.open = true; }
    }
    var tries = 0;
    (function find() {
      var card = document.querySelector('.st-key-' + cardKey);
      if (card && card.getClientRects().length) {
        document.querySelectorAll('.lva-active').forEach(function (e) { e.classList.remove('lva-active'); });
        card.classList.add('lva-active');
        card.setAttribute('tabindex', '-1');
        card.scrollIntoView({behavior: 'smooth', block: 'center'});
        card.focus({preventScroll: true});
        // While the sources grow, the chat's stick-to-bottom scrolling may carry the card away: for a moment,
        // put it back in view whenever that happens.
        var checks = 0;
        (function keep() {
          var box = card.getBoundingClientRect();
          if (box.top < 0 || box.top > window.innerHeight - 60) { card.scrollIntoView({block: 'center'}); }
          if (checks++ < 15) { setTimeout(keep, 100); }
        })();
      } else if (tries++ < 60) {
        setTimeout(find, 50);
      }
    })();
  }
  document.addEventListener('click', function (event) {
    var link = event.target.closest && event.target.closest('a.lva-cite');
    if (!link) { return; }
    event.preventDefault();
    reveal(link.dataset.card, link.dataset.sources);
  }, true);
  // A highlighted quote scrolls into the middle of its section as soon as it is shown.
  new MutationObserver(function () {
    document.querySelectorAll('mark.lva-highlight:not([data-lva-seen])').forEach(function (mark) {
      mark.setAttribute('data-lva-seen', '1');
      setTimeout(function () { mark.scrollIntoView({block: 'center'}); }, 150);
    });
  }).observe(document.body, {childList: true, subtree: true});
})();
</script>
"""
