"""`xltool serve` as a user starts it: its own process, the address it prints, the password it
shows once beyond 127.0.0.1, and a server killed in the middle of an upload losing nothing it
had acknowledged."""

from __future__ import annotations

import os
import signal
import socket
import time

import httpx
from sqlalchemy import text

from workspace_help import ROSTER, WUHAN, new_workspace_folder, serve, variant
from xltool.workspace.service import Workspace
from xltool.workspace.store import Return


def _upload(client: httpx.Client, name: str, data: bytes) -> dict:
    response = client.post("/c/1/upload", data={"csrf_token": client.cookies["xltool_csrf"]}, files={"files": (name, data)},
                           headers={"accept": "application/json"})
    return response.json()["outcomes"][0]


def test_serve_prints_its_address_and_beyond_this_machine_a_password_once(tmp_path):
    folder = new_workspace_folder(tmp_path)
    with serve(folder) as (process, base):
        assert "新建评价批次" in httpx.get(base + "/").text
        process.terminate()
        out = process.communicate(timeout=30)[0]
    assert f"请在浏览器中打开 {base}/" in out and "密码" not in out
    shown = []
    for _ in range(2):
        with serve(folder, "--host", "0.0.0.0") as (process, base):
            assert httpx.get(base + "/").status_code == 303  # to the login page
            process.terminate()
            shown.append(process.communicate(timeout=30)[0])
    assert "密码（只显示这一次，请记下）：" in shown[0] and "密码" not in shown[1]


def test_a_server_killed_mid_upload_keeps_what_it_acknowledged(tmp_path):
    folder = new_workspace_folder(tmp_path)
    ws = Workspace(folder)
    ws.create_campaign(2021, "", "", "roster.csv", ROSTER.read_bytes())
    ws.close()
    with serve(folder) as (process, base):
        with httpx.Client(base_url=base, timeout=60) as client:
            client.get("/")
            acknowledged = [_upload(client, f"{n}.xlsx", variant(WUHAN.read_bytes(), n)) for n in range(5)]
            assert all(o["kind"] == "recorded" for o in acknowledged)
            token = client.cookies["xltool_csrf"]
        # an upload under way: headers and half of a body, then the server is killed
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall((f"POST /c/1/upload HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: xltool_csrf={token}\r\n"
                       "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 10000000\r\n\r\n"
                       f'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
                       '--b\r\nContent-Disposition: form-data; name="files"; filename="half.xlsx"\r\n\r\n').encode() + WUHAN.read_bytes()[:20000])
            time.sleep(0.5)
            os.kill(process.pid, signal.SIGKILL)
            process.wait(30)
    ws = Workspace(folder)
    rows = [ws.return_row(o["return_id"]) for o in acknowledged]
    assert ws.store.count(Return) == 5
    assert all(ws.store.file_path(r.sha256).exists() for r in rows)
    with ws.store.engine.connect() as c:
        assert c.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    ws.close()
    with serve(folder) as (_process, base), httpx.Client(base_url=base, timeout=60) as client:
        client.get("/")
        assert _upload(client, "6.xlsx", variant(WUHAN.read_bytes(), 6))["kind"] == "recorded"
        assert ">6<" in client.get("/c/1").text.replace(" ", "")  # six versions on the board
