"""Checks of a page as a keyboard and screen-reader user meets it."""

from __future__ import annotations

# Every control that can take focus, numbered, with roughly the accessible name Chromium
# would announce: aria-label/aria-labelledby, <label> elements, or the text of a button/link.
CONTROLS_JS = """
() => [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]')]
  .filter(el => el.tabIndex >= 0 && !el.disabled && el.getClientRects().length > 0)
  .filter(el => {
    // Controls inside a closed <details> are reached by opening it from its summary.
    const closed = el.closest('details:not([open])');
    return !closed || (el.tagName === 'SUMMARY' && el.parentElement === closed);
  })
  .map((el, index) => {
    el.dataset.a11yIndex = index;
    const labelledBy = el.getAttribute('aria-labelledby');
    const name = (el.getAttribute('aria-label')
      || (labelledBy && labelledBy.split(' ').map(id => document.getElementById(id)?.textContent || '').join(' '))
      || (el.labels && [...el.labels].map(label => label.textContent).join(' '))
      || (['A', 'BUTTON', 'SUMMARY'].includes(el.tagName) ? el.textContent : '')
      || el.getAttribute('title') || '').trim();
    return {index, tag: el.tagName.toLowerCase(), name};
  })
"""

FOCUSED_JS = "() => document.activeElement?.dataset?.a11yIndex ?? null"
DATE_PARTS_JS = """
() => 3 * document.querySelectorAll(
  'input[type=date], input[type=datetime-local], input[type=month], input[type=week], input[type=time]'
).length
"""


def controls(page) -> list[dict]:
    return page.evaluate(CONTROLS_JS)


def unlabelled_controls(page) -> list[dict]:
    return [control for control in controls(page) if not control["name"]]


def controls_missed_by_tab(page) -> list[dict]:
    """The focusable controls that pressing Tab from the top of the page never reaches."""
    everything = controls(page)
    # Chromium stops at each part of a date or time input (day, month, year): a Tab each.
    parts = page.evaluate(DATE_PARTS_JS)
    page.evaluate("() => document.activeElement?.blur()")
    reached: set[int] = set()
    for _ in range(len(everything) + parts + 5):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED_JS)
        if focused is not None:
            reached.add(int(focused))
    return [control for control in everything if control["index"] not in reached]


def keyboard_problems(page) -> dict:
    """What a keyboard or screen-reader user would miss on the current page (empty when fine)."""
    problems = {"unlabelled": unlabelled_controls(page), "unreachable": controls_missed_by_tab(page)}
    return {kind: found for kind, found in problems.items() if found}
