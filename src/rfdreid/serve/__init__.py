"""`rfdreid serve`: a local web viewer for rankings, RFD's λ and finished evaluations.

Why a browser: re-identification is judged by looking at ranked lists, and what eq. 8's
λ does to them is seen best by moving it. Modules: :mod:`.ranking` (re-ranking cached
features), :mod:`.gallery_search` (a folder + checkpoints), :mod:`.run_browser` (an
`rfdreid evaluate` output), :mod:`.safe_files` and :mod:`.uploads` (what may be read),
:mod:`.app` (routes and templates).
"""
