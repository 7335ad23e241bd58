"""Bad input through the workspace's page, against a real server on a free local port: each is
refused with a Chinese message and nothing is written — no row in the store, no file kept."""

from __future__ import annotations

import io
import socket
import zipfile

import httpx
import pytest

from workspace_help import ROSTER, WUHAN, new_workspace_folder, running, variant
from xltool.workspace.app import Limits, create_app, first_start_password
from xltool.workspace.service import Workspace
from xltool.workspace.store import Campaign, Return, Setting

MB = 1024 * 1024


@pytest.fixture
def server(tmp_path):
    ws = Workspace(new_workspace_folder(tmp_path))
    ws.create_campaign(2021, "", "", "roster.csv", ROSTER.read_bytes())
    with running(create_app(ws)) as base:
        client = httpx.Client(base_url=base, timeout=60)
        client.get("/")
        yield ws, client, base
        client.close()
    ws.close()


def _nothing_written(ws: Workspace, campaigns: int = 1) -> None:
    assert ws.store.count(Return) == 0
    assert ws.store.count(Campaign) == campaigns
    assert not [p for p in (ws.folder / "files").rglob("*") if p.is_file()]


def _upload(client: httpx.Client, name: str, data: bytes, token: str | None = "") -> httpx.Response:
    token = client.cookies["xltool_csrf"] if token == "" else token
    form = {"csrf_token": token} if token is not None else {}
    return client.post("/c/1/upload", data=form, files={"files": (name, data)}, headers={"accept": "application/json"})


def _raw_upload(base: str, token: str, size: int, chunked: bool, cookie: str | None = None) -> bytes:
    """POST a multipart upload of `size` zero bytes over a socket (so the server's answer can be
    read even if it stops reading the body), with or without a Content-Length."""
    port = int(base.rsplit(":", 1)[1])
    boundary = "xltoolboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="大文件.xlsx"\r\n\r\n'
    ).encode()
    length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {len(head) + size}"
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall(
            (f"POST /c/1/upload HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: application/json\r\nCookie: xltool_csrf={cookie or token}\r\n"
             f"Content-Type: multipart/form-data; boundary={boundary}\r\n{length}\r\n\r\n").encode()
        )
        chunk = bytes(MB)
        try:
            for part in [head] + [chunk] * (size // MB):
                s.sendall(f"{len(part):x}\r\n".encode() + part + b"\r\n" if chunked else part)
        except OSError:
            pass  # the server stopped reading: its answer is waiting
        answer = b""
        try:
            while b"}" not in answer:
                more = s.recv(65536)
                if not more:
                    break
                answer += more
        except OSError:
            pass
        return answer


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_200_mb_upload_is_refused_while_streaming(server, chunked):
    ws, client, base = server
    answer = _raw_upload(base, client.cookies["xltool_csrf"], 200 * MB, chunked)
    assert answer.startswith(b"HTTP/1.1 413")
    message = answer.split(b"\r\n\r\n", 1)[1].decode("utf-8")
    # with a declared length it is refused before a byte of the body is read; without, after 100 MB
    assert ("超过上限 150 MB" if not chunked else "超过 100 MB") in message and "没有记录任何内容" in message
    _nothing_written(ws)


def test_a_zip_bomb_inside_a_zip_is_refused(server):
    ws, client, _base = server
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("2021_武汉市档案馆.xlsx", bytes(300 * MB))  # ~300 KB compressed
    assert len(bomb.getvalue()) < 1 * MB
    response = _upload(client, "回收.zip", bomb.getvalue())
    [outcome] = response.json()["outcomes"]
    assert outcome["kind"] == "refused" and "压缩包“回收.zip”没有收下" in outcome["message"]
    _nothing_written(ws)


def test_a_name_that_climbs_out_of_the_folder_is_refused(server, tmp_path):
    ws, client, _base = server
    [outcome] = _upload(client, "../../x.xlsx", WUHAN.read_bytes()).json()["outcomes"]
    assert outcome["kind"] == "refused" and "没有收下" in outcome["message"]
    _nothing_written(ws)
    assert not (ws.folder.parent / "x.xlsx").exists() and not (ws.folder.parent.parent / "x.xlsx").exists()


def test_a_form_without_the_csrf_token_is_refused(server):
    ws, client, _base = server
    for token in (None, "forged-token"):
        response = _upload(client, "a.xlsx", WUHAN.read_bytes(), token=token)
        assert response.status_code == 403 and "安全校验未通过" in response.json()["error"]
        created = client.post("/campaigns", data={"csrf_token": token or "", "year": "2021"}, files={"roster": ("r.csv", ROSTER.read_bytes())})
        assert created.status_code == 403 and "没有保存任何内容" in created.text
    # a page elsewhere cannot send the cookie along (SameSite=Strict) nor read it
    assert "samesite=strict" in client.get("/").headers["set-cookie"].lower()
    _nothing_written(ws)


def test_a_request_for_another_host_is_refused(server):
    ws, client, _base = server
    for path in ("/", "/c/1"):
        response = client.get(path, headers={"host": "evil.example:8765"})
        assert response.status_code == 403 and "拒绝访问" in response.text
    response = client.post("/c/1/upload", data={"csrf_token": client.cookies["xltool_csrf"]}, files={"files": ("a.xlsx", WUHAN.read_bytes())},
                           headers={"host": "evil.example"})
    assert response.status_code == 403 and "主机名不是本工作区的地址" in response.text
    _nothing_written(ws)


def test_too_many_files_in_one_upload_are_refused(tmp_path):
    ws = Workspace(new_workspace_folder(tmp_path))
    ws.create_campaign(2021, "", "", "roster.csv", ROSTER.read_bytes())
    with running(create_app(ws, limits=Limits(files=2))) as base, httpx.Client(base_url=base) as client:
        client.get("/")
        files = [("files", (f"{n}.xlsx", variant(WUHAN.read_bytes(), n))) for n in range(3)]
        response = client.post("/c/1/upload", data={"csrf_token": client.cookies["xltool_csrf"]}, files=files, headers={"accept": "application/json"})
        assert response.status_code == 413 and "一次最多上传 2 个文件" in response.json()["error"]
    _nothing_written(ws)
    ws.close()


def test_beyond_this_machine_a_password_is_required(tmp_path):
    ws = Workspace(new_workspace_folder(tmp_path))
    password = first_start_password(ws)
    assert password and first_start_password(ws) is None  # shown once
    stored = ws.store.setting("password") or ""
    assert stored.startswith("scrypt$") and password not in stored
    with running(create_app(ws, host="0.0.0.0")) as base, httpx.Client(base_url=base) as client:
        assert client.get("/").status_code == 303  # to the login page
        page = client.get("/login")
        assert "登录工作区" in page.text
        token = client.cookies["xltool_csrf"]
        refused = client.post("/campaigns", data={"csrf_token": token, "year": "2021"}, files={"roster": ("r.csv", ROSTER.read_bytes())})
        assert refused.status_code == 401 and "请先登录" in refused.text
        wrong = client.post("/login", data={"csrf_token": token, "password": "guess"})
        assert wrong.status_code == 403 and "密码不对" in wrong.text
        right = client.post("/login", data={"csrf_token": token, "password": password})
        assert right.status_code == 303
        assert "新建评价批次" in client.get("/").text
    assert ws.store.count(Campaign) == 0 and ws.store.count(Setting) >= 3
    ws.close()


def test_text_from_a_file_or_its_name_is_shown_never_run(server):
    ws, client, _base = server
    name = "<img src=x onerror=alert(1)>.xlsx"
    [outcome] = _upload(client, name, b"not a workbook").json()["outcomes"]
    assert outcome["kind"] == "set_aside"
    board = client.get("/c/1")
    assert "<img src=x" not in board.text and "&lt;img src=x onerror=alert(1)&gt;.xlsx" in board.text
    policy = board.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert board.headers["x-frame-options"] == "DENY"


def test_an_upload_without_the_token_is_refused_before_its_file_is_read(server):
    ws, client, base = server
    # 200 MB without a token: refused at the file part's headers, not after 100 MB
    answer = _raw_upload(base, "forged", 200 * MB, chunked=True, cookie=client.cookies["xltool_csrf"])
    assert answer.startswith(b"HTTP/1.1 403") and "安全校验未通过" in answer.split(b"\r\n\r\n", 1)[1].decode("utf-8")
    _nothing_written(ws)
