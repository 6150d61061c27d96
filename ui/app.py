"""TacitKB web app: `streamlit run ui/app.py` (the knowledge base is $TACITKB_HOME)."""

from __future__ import annotations

import sys
from pathlib import Path

_REPO = str(Path(__file__).resolve().parent.parent)
if _REPO not in sys.path:  # `streamlit run ui/app.py` puts ui/ on the path, not the repo root
    sys.path.insert(0, _REPO)

import streamlit as st  # noqa: E402

from ui import state  # noqa: E402
from ui.widgets import PAGES, inject_css  # noqa: E402


def main() -> None:
    """Build the navigation and run the chosen page."""
    state.mark_first_run()
    st.set_page_config(page_title="TacitKB", page_icon=":material/science:", layout="wide")
    st.set_option("client.showErrorDetails", "none")
    st.set_option("client.toolbarMode", "minimal")
    inject_css()
    pages = {
        "Capture": [
            st.Page(
                PAGES["quick_log"],
                title="Quick log",
                icon=":material/edit_note:",
                url_path="quick_log",
                default=True,
            ),
            st.Page(PAGES["workshop"], title="Workshop", icon=":material/forum:", url_path="workshop"),
            st.Page(PAGES["import"], title="Import", icon=":material/upload_file:", url_path="import"),
        ],
        "Find": [
            st.Page(PAGES["search"], title="Search", icon=":material/search:", url_path="search"),
            st.Page(PAGES["entry"], title="Entry", icon=":material/description:", url_path="entry"),
        ],
        "Review": [
            st.Page(
                PAGES["qa"], title="Deviation clusters and drift", icon=":material/monitoring:", url_path="qa"
            ),
            st.Page(PAGES["coverage"], title="Coverage", icon=":material/grid_on:", url_path="coverage"),
        ],
    }
    # Not logged in: the menu is hidden and every page shows the login form (or the first admin's account,
    # while none exists) instead of its content (ui.widgets.guarded); a deep link opens after the login.
    page = st.navigation(pages, position="sidebar" if state.current_user() else "hidden")
    # Each page draws the sidebar (who is working, start-up timings) through ui.widgets.guarded. The model
    # and index load once per process, on the first call of state.get_kb(): a page draws what it can
    # before that (the Quick log form is usable while the model loads for the similar-entries panel).
    page.run()


main()
