"""Fill a workbook in LibreOffice Calc as a clerk types, through UNO, and save it as xlsx.

Run by `tests/test_libreoffice_fill.py` with the system python (`/usr/bin/python3`,
which has Debian's `python3-uno`; the project's venv has not), against a `soffice
--headless --accept=socket,host=127.0.0.1,port=N;urp;` the test started.  Reads a JSON
job on stdin: {"port", "source", "target", "cells": [[sheet, cell, typed], ...]}.  Each
text goes through `.uno:EnterString`, Calc's own input line, so it is parsed in the
office's locale as typing it would be ("85%" a percent, "05/01/2026" a date).  Writes
JSON on stdout: what each cell then shows and holds.
"""

from __future__ import annotations

import json
import sys
import time

import uno  # type: ignore[import-not-found]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]
from com.sun.star.connection import NoConnectException  # type: ignore[import-not-found]


def prop(name: str, value: object) -> PropertyValue:
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def connect(port: int, seconds: float = 120) -> object:
    """The office's desktop, waiting for soffice to listen."""
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    url = f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext"
    end = time.monotonic() + seconds
    while True:
        try:
            ctx = resolver.resolve(url)
            break
        except NoConnectException:
            if time.monotonic() > end:
                raise
            time.sleep(0.5)
    return ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx), ctx


def fill(job: dict) -> list[dict]:
    desktop, ctx = connect(job["port"])
    dispatcher = ctx.ServiceManager.createInstanceWithContext(
        "com.sun.star.frame.DispatchHelper", ctx
    )
    doc = desktop.loadComponentFromURL(
        uno.systemPathToFileUrl(job["source"]), "_blank", 0, (prop("Hidden", True),)
    )
    controller = doc.getCurrentController()
    frame = controller.getFrame()
    shown = []
    for sheet_name, ref, typed in job["cells"]:
        sheet = doc.Sheets.getByName(sheet_name)
        controller.setActiveSheet(sheet)
        cell = sheet.getCellRangeByName(ref)
        controller.select(cell)
        dispatcher.executeDispatch(frame, ".uno:EnterString", "", 0, (prop("StringName", typed),))
        shown.append(
            {
                "cell": f"{sheet_name}!{ref}",
                "typed": typed,
                "shows": cell.String,
                "value": cell.Value,
            }
        )
    doc.storeToURL(
        uno.systemPathToFileUrl(job["target"]), (prop("FilterName", "Calc MS Excel 2007 XML"),)
    )
    # not closed: closing it after typing aborted soffice 7.4 headless here (signal 6
    # in a timer, SvpSalInstance::CheckTimeout); the test ends the office instead
    return shown


if __name__ == "__main__":
    json.dump(fill(json.load(sys.stdin)), sys.stdout, ensure_ascii=False)
