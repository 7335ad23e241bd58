"""Drive a running LibreOffice Calc through its own user interface, as a person types.

Runs under the system Python with Debian's python3-uno (`/usr/bin/python3`), not the project's
virtual environment: tests/test_libreoffice_ui.py starts soffice (private profile, own port,
zh-CN locale) and runs this script once per document as a subprocess.

    /usr/bin/python3 tests/lo_ui_driver.py --port 2002 < job.json > result.json

The job (JSON on standard input):
    {"file": "in.xlsx", "save": "out.xlsx" (optional), "actions": [ACTION, ...]}
Actions, each {"do": ..., "sheet": "绩效指标", "cell": "E5", ...}:
    type    select the cell (.uno:GoToCell) and type "text" into the grid window, then Enter:
            keystrokes, so sheet protection and data validation apply as for a person. A new
            line in the text is typed as Ctrl+Enter (Calc's manual line break). The result's "box" is the title of a message
            box that came up and took the focus (the "protected cell" one), else null.
    choose  open the cell's validation dropdown (LAUNCH SELECTMENU) and double-click "entry";
            the result's "entries" are the dropdown's entries up to it, or all of them with
            "entries": true. An entry not in the dropdown: Escape, nothing chosen.
    command select the cell, then run a menu command ("command": ".uno:Copy", ".uno:Paste",
            ".uno:InsertRowsBefore", ".uno:DeleteRows", …) as its menu entry does; "box" as for type.
    read    the cell as it is now.
Every action's result carries the cell after it: {"string", "value", "formula", "type"}; "type"
is EMPTY / VALUE / TEXT / FORMULA (LibreOffice's CellContentType). After the actions the document
is recalculated and, with "save", stored as .xlsx (Calc MS Excel 2007 XML), then closed.
The result (JSON on standard output): {"results": [...], "saved": path or null}; a failure is
{"error": "..."} with exit status 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
import time
from pathlib import Path

import uno  # python3-uno: the system Python only; it also makes the com.sun.star imports work
from com.sun.star.beans import PropertyValue

XLSX_FILTER = "Calc MS Excel 2007 XML"


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def connect(port: int, timeout: float):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    url = f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext"
    deadline = time.monotonic() + timeout
    while True:
        try:
            return resolver.resolve(url)
        except Exception:  # NoConnectException while soffice is still starting
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


class Session:
    def __init__(self, ctx):
        self.ctx = ctx
        smgr = ctx.ServiceManager
        self.desktop = smgr.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        self.dispatcher = smgr.createInstanceWithContext("com.sun.star.frame.DispatchHelper", ctx)
        self.uitest = smgr.createInstanceWithContext("org.libreoffice.uitest.UITest", ctx)
        self._grid = None  # the focused document window's grid window, until a box takes the focus

    def open(self, path: Path):
        url = uno.systemPathToFileUrl(str(path.resolve()))
        doc = self.desktop.loadComponentFromURL(url, "_blank", 0, ())
        if doc is None:  # LibreOffice asked something (a lock, a repair) and headless said no
            raise RuntimeError(f"LibreOffice could not open {path}")
        self.focus(doc)
        return doc

    def focus(self, doc):
        """Give the document's window the focus: the grid window typed into is the top focus
        window's child. A message box (protected cell, validation error) is cancelled at once
        headless, but keeps the focus: the next keystrokes would go nowhere."""
        frame = doc.getCurrentController().getFrame()
        frame.activate()
        frame.getContainerWindow().setFocus()
        self._grid = None

    def dispatch(self, doc, command, *props):
        frame = doc.getCurrentController().getFrame()
        self.dispatcher.executeDispatch(frame, command, "", 0, tuple(props))

    def goto(self, doc, sheet: str, cell: str):
        sheets = doc.getSheets()
        if not sheets.hasByName(sheet):
            raise KeyError(f"no sheet {sheet!r}")
        controller = doc.getCurrentController()
        if controller.getActiveSheet().getName() != sheet:  # switching repaints: only when needed
            controller.setActiveSheet(sheets.getByName(sheet))
        self.dispatch(doc, ".uno:GoToCell", prop("ToPoint", cell))
        return sheets.getByName(sheet).getCellRangeByName(cell)

    def grid(self, doc):
        if self._grid is None:
            self.focus(doc)
            self._grid = self.uitest.getTopFocusWindow().getChild("grid_window")
        return self._grid

    def box(self, doc):
        """The title of a message box that took the focus, or None (the grid window kept it).

        Calc shows "protected cell" as an asynchronous box: headless, it is cancelled at once
        (the keystrokes are dropped, as after OK), yet it keeps the focus and neither a click
        nor a close brings it back (closing it crashes soffice 7.4). A new window on the same
        document (Window > New Window) takes the focus, as a person would carry on in it."""
        top = self.uitest.getTopFocusWindow()
        if "grid_window" in top.getChildren():
            return None
        title = dict(_state(top)).get("Text", "")
        stuck = doc.getCurrentController().getFrame()
        self.dispatch(doc, ".uno:NewWindow")
        stuck.close(True)  # one window open at a time: each costs time and memory
        self._grid = None
        return title

    def type(self, doc, sheet, cell, text):
        target = self.goto(doc, sheet, cell)
        grid = self.grid(doc)
        for i, line in enumerate(text.split("\n")):  # a new line inside a cell: Ctrl+Enter in Calc
            if i:
                grid.executeAction("TYPE", (prop("KEYCODE", "CTRL+RETURN"),))
            if line:
                grid.executeAction("TYPE", (prop("TEXT", line),))
        grid.executeAction("TYPE", (prop("KEYCODE", "RETURN"),))
        return target, self.box(doc)

    def choose(self, doc, sheet, cell, entry, every=False):
        target = self.goto(doc, sheet, cell)
        addr = target.getCellAddress()
        self.grid(doc).executeAction(
            "LAUNCH", (prop("SELECTMENU", ""), prop("COL", str(addr.Column)), prop("ROW", str(addr.Row)))
        )
        entries, chosen = [], None
        try:
            box = self.uitest.getTopFocusWindow().getChild("list")
        except Exception:  # no dropdown: the cell has no list validation (or is protected)
            return target, entries
        for i in range(len(box.getChildren())):
            child = box.getChild(str(i))
            text = dict(_state(child)).get("Text", "")
            entries.append(text)
            if text == entry:
                chosen = child
                if not every:
                    break  # each entry read is a round trip: stop at the one wanted
        if chosen is not None:
            chosen.executeAction("DOUBLECLICK", ())
        else:  # close the dropdown without choosing
            self.grid(doc).executeAction("TYPE", (prop("KEYCODE", "ESC"),))
        return target, entries


def _state(ui_object):
    return [(p.Name, p.Value) for p in ui_object.getState()]


def describe(cell) -> dict:
    return {
        "string": cell.getString(),
        "value": cell.getValue(),
        "formula": cell.getFormula(),
        "type": cell.getType().value,  # EMPTY | VALUE | TEXT | FORMULA
    }


def run(session: Session, job: dict) -> dict:
    doc = session.open(Path(job["file"]))
    try:
        results = []
        for action in job.get("actions", []):
            kind, sheet, cell = action["do"], action["sheet"], action["cell"]
            out = {"do": kind, "sheet": sheet, "cell": cell}
            if kind == "type":
                target, out["box"] = session.type(doc, sheet, cell, str(action["text"]))
            elif kind == "choose":
                target, out["entries"] = session.choose(doc, sheet, cell, action["entry"], action.get("entries", False))
            elif kind == "command":
                target = session.goto(doc, sheet, cell)
                session.dispatch(doc, action["command"])
                out["box"] = session.box(doc)
            elif kind == "read":
                target = doc.getSheets().getByName(sheet).getCellRangeByName(cell)
            else:
                raise ValueError(f"unknown action {kind!r}")
            out.update(describe(target))
            results.append(out)
        doc.calculateAll()
        saved = None
        if job.get("save"):
            out_path = Path(job["save"]).resolve()
            doc.storeToURL(uno.systemPathToFileUrl(str(out_path)), (prop("FilterName", XLSX_FILTER),))
            saved = str(out_path)
        return {"results": results, "saved": saved}
    finally:
        doc.close(True)


def _exit(code: int) -> None:
    """Flush and leave at once: pyuno's own teardown may crash after the work is done."""
    sys.stdout.flush()
    os._exit(code)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--connect-timeout", type=float, default=30)
    parser.add_argument("--terminate", action="store_true", help="ask soffice to quit")
    args = parser.parse_args(argv)
    if args.terminate:
        try:
            Session(connect(args.port, 5)).desktop.terminate()
        except Exception:  # already gone, or the bridge closed as it quit
            pass
        return 0
    try:
        job = json.load(sys.stdin)
        session = Session(connect(args.port, args.connect_timeout))
        result = run(session, job)
    except Exception as exc:  # reported to the test as data, with the type for diagnosis
        detail = traceback.format_exc(limit=-3)
        json.dump({"error": f"{type(exc).__name__}: {exc}\n{detail}"}, sys.stdout, ensure_ascii=False)
        return 1
    json.dump(result, sys.stdout, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    _exit(main())
