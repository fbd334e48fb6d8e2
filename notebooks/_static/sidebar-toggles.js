/* CRPS evidence notebooks: the menu buttons above the article open the navigation.
 *
 * sphinx-book-theme puts its own "Toggle primary sidebar" / "Toggle secondary sidebar"
 * buttons above the article, but pydata-sphinx-theme (0.16 and later) wires only the first
 * button of each kind in the page, the header's, which the book theme hides. On a phone the
 * visible menu button did nothing, with the mouse or the keyboard, and the navigation could
 * not be reached. Each unwired button now does what the wired one does: on a wide screen it
 * shows or hides the sidebar, on a narrow one it opens the navigation in a dialog.
 * (tests/book/test_accessibility.py presses Tab and Enter on it at 390 px.)
 */
document.addEventListener("DOMContentLoaded", () => {
  for (const kind of ["primary", "secondary"]) {
    const [wired, ...others] = document.querySelectorAll(`.${kind}-toggle`);
    if (!wired) {
      continue;
    }
    for (const button of others) {
      button.addEventListener("click", (event) => {
        event.preventDefault();
        event.stopPropagation();
        wired.click();
      });
    }
  }
});
