"""The workspace's web app (Starlette + Jinja2): routes translate HTTP to service calls and back,
and guard the door — the Host header, the password when served beyond this machine, a CSRF
token on every form and upload, and upload limits enforced while the bytes arrive.

Uploaded names are only shown, never used as paths; uploads are spooled by the multipart
parser into anonymous temporary files and then kept by content hash (store.py).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from xltool.workspace.service import BOARD_STATES, DECLARATION, KIND_TEXT, STAGE_TEXT, ApprovalRefused, RosterRejected, ServiceError, Workspace

HERE = Path(__file__).resolve().parent
CSRF_COOKIE = "xltool_csrf"
SESSION_COOKIE = "xltool_session"
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}
MB = 1024 * 1024


@dataclass
class Limits:
    """Upload limits, each enforced while the request body arrives."""

    file_bytes: int = 100 * MB  # one file (a .zip of returns may be large; a return is ~30 KB)
    request_bytes: int = 150 * MB  # everything in one upload request
    files: int = 500  # files in one upload request
    form_bytes: int = 20 * MB  # a form with a roster


class Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    try:
        scheme, salt, _digest = stored.split("$")
    except ValueError:
        return False
    return scheme == "scrypt" and hmac.compare_digest(hash_password(password, bytes.fromhex(salt)), stored)


def first_start_password(ws: Workspace) -> str | None:
    """A password for a workspace served beyond this machine: made on first start and returned
    (to be shown once); None when one exists already (only its hash is kept)."""
    if ws.store.setting("password") is not None:
        return None
    password = secrets.token_urlsafe(12)
    ws.store.setting_once("password", lambda: hash_password(password))
    return password if password_matches(password, ws.store.setting("password") or "") else None


class _LimitedParser(MultiPartParser):
    """Starlette's multipart parser with a size limit per file, counted as the bytes arrive."""

    file_limit = 0
    token_ok = staticmethod(lambda token: True)  # the CSRF check, made before a file's first byte is kept

    def on_headers_finished(self) -> None:
        super().on_headers_finished()
        if self._current_part.file is not None:
            fields = dict((k, v) for k, v in self.items if isinstance(v, str))
            if not self.token_ok(self.headers.get("x-csrf-token") or fields.get("csrf_token")):
                raise Refused(403, CSRF_REFUSED)

    def on_part_begin(self) -> None:
        super().on_part_begin()
        self._part_bytes = 0

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        self._part_bytes = getattr(self, "_part_bytes", 0) + (end - start)
        if self._current_part.file is not None and self._part_bytes > self.file_limit:
            raise Refused(413, f"文件“{_name_of(self._current_part.file.filename)}”超过 {self.file_limit // MB} MB，没有收下，也没有记录任何内容。请确认上传的是单位交回的自评表；很大的压缩包请分成几个再上传。")
        super().on_part_data(data, start, end)


def _name_of(filename: str | None) -> str:
    from xltool.workspace.service import shown_name

    return shown_name(filename or "")


async def _limited_stream(request: Request, limit: int, what: str):
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise Refused(413, f"{what}共 {int(declared) // MB} MB，超过上限 {limit // MB} MB，没有收下，也没有记录任何内容。请分批上传。")
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise Refused(413, f"{what}超过上限 {limit // MB} MB，已停止接收，没有记录任何内容。请分批上传。")
        yield chunk


async def read_form(request: Request, limits: Limits, uploads: bool = False):
    """The form of a POST, parsed with the limits, after its CSRF token is checked."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        limit = limits.request_bytes if uploads else limits.form_bytes
        parser = _LimitedParser(
            request.headers, _limited_stream(request, limit, "这次上传" if uploads else "表单"),
            max_files=limits.files if uploads else 2, max_fields=30, max_part_size=MB,
        )
        parser.file_limit = limits.file_bytes if uploads else limits.form_bytes
        parser.token_ok = lambda token: csrf_matches(request, token)
        try:
            form = await parser.parse()
        except MultiPartException as exc:
            if "Too many files" in str(exc):
                raise Refused(413, f"一次最多上传 {limits.files} 个文件，没有收下，也没有记录任何内容。请分批上传。") from None
            raise Refused(400, "表单格式不正确，没有保存任何内容。请刷新页面后重试。") from None
    elif content_type.startswith("application/x-www-form-urlencoded"):
        body = b"".join([c async for c in _limited_stream(request, MB, "表单")])
        request._body = body  # noqa: SLF001 - starlette reads a cached body
        form = await request.form(max_files=0, max_fields=30)
    else:
        raise Refused(400, "请求格式不正确，没有保存任何内容。请在页面上操作。")
    check_csrf(request, form.get("csrf_token") or request.headers.get("x-csrf-token"))
    return form


CSRF_REFUSED = "安全校验未通过（表单缺少或带错了校验码，可能来自别的网页），没有保存任何内容。请刷新本页后重新操作。"


def csrf_matches(request: Request, token) -> bool:
    """Double submit: the form's (or the X-CSRF-Token header's) token equals the cookie's, which
    another site can neither read nor make the browser send (SameSite=Strict)."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return bool(cookie) and isinstance(token, str) and hmac.compare_digest(cookie, token)


def check_csrf(request: Request, token) -> None:
    if not csrf_matches(request, token):
        raise Refused(403, CSRF_REFUSED)


def create_app(ws: Workspace, host: str = "127.0.0.1", limits: Limits | None = None, require_password: bool | None = None) -> Starlette:
    limits = limits or Limits()
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(KIND_TEXT=KIND_TEXT, BOARD_STATES=BOARD_STATES, STAGE_TEXT=STAGE_TEXT, DECLARATION=DECLARATION)
    need_password = (not is_loopback(host)) if require_password is None else require_password
    secret = ws.store.setting_once("secret", lambda: secrets.token_hex(32)).encode()
    allowed = set(LOOPBACK_NAMES) | {host.strip("[]").lower()}

    def session_token() -> str:
        nonce = secrets.token_hex(16)
        return f"{nonce}.{hmac.new(secret, nonce.encode(), 'sha256').hexdigest()}"

    def session_ok(value: str) -> bool:
        nonce, _, mac = value.partition(".")
        return bool(nonce) and hmac.compare_digest(mac, hmac.new(secret, nonce.encode(), "sha256").hexdigest())

    def page(request: Request, template_name: str, status: int = 200, **context) -> Response:
        token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        context.update(csrf_token=token, campaigns=ws.campaigns())
        response = templates.TemplateResponse(request, template_name, context, status_code=status)
        _set_csrf(response, token)
        return response

    def refused(request: Request, exc: Refused | ServiceError, status: int | None = None) -> Response:
        message = exc.message if isinstance(exc, Refused) else str(exc)
        code = exc.status if isinstance(exc, Refused) else (status or 400)
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"error": message}, status_code=code)
        return page(request, "message.html", status=code, message=message)

    # ---------------------------------------------------------------- pages
    async def home(request: Request):
        return page(request, "home.html", notes=[], problems=[], error="")

    async def create_campaign(request: Request):
        try:
            form = await read_form(request, limits)
            roster_name, data = await _chosen_file(form, "roster", "请选择名册文件（.csv 或 .xlsx）。")
            try:
                year = int(str(form.get("year", "")).strip())
            except ValueError:
                raise ServiceError("年度应是四位数字，如 2021。") from None
            campaign_id, notes = await run_in_threadpool(
                ws.create_campaign, year, str(form.get("kind", "")), str(form.get("framework", "")).strip(),
                roster_name, data, str(form.get("name", "")), str(form.get("stage", "")) or "evaluation",
            )
        except RosterRejected as exc:
            return page(request, "home.html", status=400, error=str(exc), problems=exc.problems, notes=[])
        except ServiceError as exc:
            return page(request, "home.html", status=400, error=str(exc), problems=[], notes=[])
        except Refused as exc:
            return refused(request, exc)
        return page(request, "created.html", campaign=ws.campaign(campaign_id), notes=notes, units=ws.units(campaign_id))

    async def board(request: Request):
        cid = request.path_params["cid"]
        state = request.query_params.get("state", "")
        sort = request.query_params.get("sort", "")
        search = request.query_params.get("q", "")[:100]
        try:
            data = await run_in_threadpool(ws.board, cid, state if state in BOARD_STATES else "", sort, search)
        except ServiceError as exc:
            return refused(request, exc, 404)
        return page(request, "board.html", board=data, state=state, sort=sort, search=search)

    async def collect(request: Request):
        try:
            campaign = ws.campaign(request.path_params["cid"])
        except ServiceError as exc:
            return refused(request, exc, 404)
        return page(request, "collect.html", campaign=campaign, limits=limits)

    async def upload(request: Request):
        cid = request.path_params["cid"]
        try:
            ws.campaign(cid)
            form = await read_form(request, limits, uploads=True)
            files = [f for f in form.getlist("files") if not isinstance(f, str)]
            if not files:
                raise ServiceError("没有收到文件。请把文件拖到框里，或点“选择文件”。")
            outcomes = []
            for item in files:
                data = await item.read()
                outcomes += await run_in_threadpool(ws.add_upload, cid, item.filename or "", data)
                await item.close()
        except Refused as exc:
            return refused(request, exc)
        except ServiceError as exc:
            return refused(request, exc)
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"outcomes": [o.as_dict() for o in outcomes]})
        return page(request, "uploaded.html", campaign=ws.campaign(cid), outcomes=outcomes)

    async def targets(request: Request):
        """The campaign's approved targets (绩效目标批复表): what it holds, and a form to upload one."""
        cid = request.path_params["cid"]
        try:
            campaign = ws.campaign(cid)
        except ServiceError as exc:
            return refused(request, exc, 404)
        if campaign.stage == DECLARATION:
            return refused(request, ServiceError("这是绩效目标申报批次：它收集申报表，并由申报表生成批复表，本身不采用批复表。请在同一年度的评价批次中上传或选用批复表。"))
        sources = ws.declaration_campaigns(campaign.year)

        def answer(status: int = 200, notes=(), problems=(), lines=(), error: str = "") -> Response:
            return page(request, "targets.html", status=status, campaign=ws.campaign(cid), notes=list(notes), problems=list(problems),
                        lines=list(lines), error=error, sources=sources)

        if request.method == "GET":
            return answer()
        try:
            form = await read_form(request, limits)
            source = str(form.get("source", "")).strip()
            if source:  # the 批复表 a 申报 campaign of this year makes now
                if not source.isdigit():
                    raise ServiceError("请在列表中选择一个申报批次。")
                notes = await run_in_threadpool(ws.take_approval, cid, int(source))
            else:
                filename, data = await _chosen_file(form, "targets", "请选择批复表文件（.csv 或 .xlsx）。")
                notes = await run_in_threadpool(ws.set_targets, cid, filename, data)
        except RosterRejected as exc:
            return answer(400, problems=exc.problems, error=str(exc))
        except ApprovalRefused as exc:
            return answer(409, lines=exc.lines, error=str(exc))
        except ServiceError as exc:
            return answer(400, error=str(exc))
        except Refused as exc:
            return refused(request, exc)
        return answer(notes=notes)

    async def approval(request: Request):
        """生成批复表: the 批复表 of a 申报 campaign as a download, or the page saying per unit what to fix."""
        cid = request.path_params["cid"]
        try:
            name, data = await run_in_threadpool(ws.approval, cid)
        except ApprovalRefused as exc:
            return page(request, "approval.html", status=409, campaign=ws.campaign(cid), error=str(exc), lines=exc.lines)
        except ServiceError as exc:
            return refused(request, exc, 404 if "没有这个" in str(exc) else 400)
        return _attachment(name, data)

    async def unit(request: Request):
        try:
            data = await run_in_threadpool(ws.unit_page, request.path_params["cid"], request.path_params["uid"])
        except ServiceError as exc:
            return refused(request, exc, 404)
        return page(request, "unit.html", **data)

    async def review(request: Request):
        cid = request.path_params["cid"]
        try:
            campaign = ws.campaign(cid)
        except ServiceError as exc:
            return refused(request, exc, 404)
        return page(request, "review.html", campaign=campaign, items=ws.reviews(cid), error="")

    async def review_action(request: Request, call) -> Response:
        """A POST of the review page: the form, then `call(form)` in a worker thread; back to the
        page, with the service's message when it refused."""
        cid = request.path_params["cid"]
        try:
            form = await read_form(request, limits)
            await run_in_threadpool(call, form)
        except Refused as exc:
            return refused(request, exc)
        except ServiceError as exc:
            return page(request, "review.html", status=400, campaign=ws.campaign(cid), items=ws.reviews(cid), error=str(exc))
        return RedirectResponse(f"/c/{cid}/review", status_code=303)

    async def draw(request: Request):
        cid = request.path_params["cid"]
        return await review_action(request, lambda form: ws.draw_sample_as_typed(
            cid, str(form.get("seed", "")), str(form.get("per_grade", "")), str(form.get("share", ""))))

    async def save_review(request: Request):
        cid, uid = request.path_params["cid"], request.path_params["uid"]
        return await review_action(request, lambda form: ws.save_review(cid, uid, str(form.get("review_score", "")), str(form.get("comment", ""))))

    async def history(request: Request):
        code = request.query_params.get("code", "")
        name = request.query_params.get("name", "")
        rows = await run_in_threadpool(ws.history, code, name) if (code or name) else []
        return page(request, "history.html", rows=rows, code=code, name=name, units=ws.known_units())

    async def download(request: Request):
        cid, what = request.path_params["cid"], request.path_params["what"]
        try:
            if what == "templates":
                name, data = await run_in_threadpool(ws.templates_zip, cid)
            else:
                name, data = await run_in_threadpool(ws.export, cid, what)
        except ServiceError as exc:
            return refused(request, exc, 404)
        return _attachment(name, data)

    async def feedback(request: Request):
        try:
            name, data = await run_in_threadpool(ws.feedback, request.path_params["rid"])
        except ServiceError as exc:
            return refused(request, exc, 404)
        return _attachment(name, data)

    async def login(request: Request):
        if request.method == "GET":
            return page(request, "login.html", error="")
        try:
            form = await read_form(request, limits)
        except Refused as exc:
            return refused(request, exc)
        if not password_matches(str(form.get("password", "")), ws.store.setting("password") or ""):
            return page(request, "login.html", status=403, error="密码不对。密码在第一次启动工作区时显示过一次；忘记时请在服务器上运行 xltool serve --reset-password。")
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(SESSION_COOKIE, session_token(), httponly=True, samesite="strict")
        return response

    routes = [
        Route("/", home),
        Route("/campaigns", create_campaign, methods=["POST"]),
        Route("/c/{cid:int}", board),
        Route("/c/{cid:int}/collect", collect),
        Route("/c/{cid:int}/upload", upload, methods=["POST"]),
        Route("/c/{cid:int}/targets", targets, methods=["GET", "POST"]),
        Route("/c/{cid:int}/approval", approval),
        Route("/c/{cid:int}/u/{uid:int}", unit),
        Route("/c/{cid:int}/review", review),
        Route("/c/{cid:int}/review/draw", draw, methods=["POST"]),
        Route("/c/{cid:int}/review/{uid:int}", save_review, methods=["POST"]),
        Route("/c/{cid:int}/download/{what}", download),
        Route("/r/{rid:int}/feedback", feedback),
        Route("/history", history),
        Route("/login", login, methods=["GET", "POST"]),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    app = Starlette(routes=routes)
    app.state.workspace = ws
    return _Guard(app, allowed, need_password, session_ok)


async def _chosen_file(form, field: str, missing: str) -> tuple[str, bytes]:
    """The name and bytes of the file chosen in a form's file input; `missing` when none was."""
    upload = form.get(field)
    if upload is None or isinstance(upload, str) or not upload.filename:
        raise ServiceError(missing)
    return upload.filename, await upload.read()


def _set_csrf(response: Response, token: str) -> None:
    response.set_cookie(CSRF_COOKIE, token, httponly=False, samesite="strict")


def _attachment(name: str, data: bytes) -> Response:
    media = {
        ".zip": "application/zip", ".json": "application/json", ".csv": "text/csv; charset=utf-8",
        ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }.get(Path(name).suffix, "application/octet-stream")
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return Response(data, media_type=media, headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
        "X-Content-Type-Options": "nosniff",
    })


class _Guard:
    """ASGI wrapper: a request naming another host is refused (a page elsewhere cannot reach the
    workspace through DNS rebinding); beyond this machine, a session is required."""

    def __init__(self, app, allowed: set[str], need_password: bool, session_ok):
        self.app, self.allowed, self.need_password, self.session_ok = app, allowed, need_password, session_ok

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        name = host.rsplit(":", 1)[0] if not host.startswith("[") else host[1:].split("]")[0]
        if name.lower() not in self.allowed:
            return await _plain(403, "拒绝访问：请求中的主机名不是本工作区的地址（可能来自别的网页）。请在浏览器中用 xltool serve 显示的地址打开工作区。")(scope, receive, send)
        path = scope.get("path", "")
        if self.need_password and not path.startswith(("/login", "/static/")):
            request = Request(scope)
            if not self.session_ok(request.cookies.get(SESSION_COOKIE, "")):
                if scope.get("method") == "GET":
                    return await RedirectResponse("/login", status_code=303)(scope, receive, send)
                return await _plain(401, "请先登录工作区，再进行这个操作。没有保存任何内容。")(scope, receive, send)

        async def send_with_policy(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        return await self.app(scope, receive, send_with_policy)


# Every answer: only this app's own scripts, styles and images; never inside another site's frame.
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


def _plain(status: int, message: str) -> Response:
    body = f"<!doctype html><meta charset=utf-8><title>xltool 工作区</title><p>{message}</p>"
    return HTMLResponse(body, status_code=status)



def serve(folder, db: str | None = None, host: str = "127.0.0.1", port: int = 8765, open_browser: bool = True, reset_password: bool = False) -> int:
    """Run the workspace until Ctrl-C (the `xltool serve` command)."""
    import sys
    import threading
    import webbrowser

    import uvicorn

    ws = Workspace(folder, db)
    loopback = is_loopback(host)
    if reset_password:
        ws.store.set_setting("password", hash_password(new := secrets.token_urlsafe(12)))
        print(f"新的登录密码（只显示这一次，请记下）：{new}")
    elif not loopback:
        password = first_start_password(ws)
        if password:
            print(f"工作区将在 {host} 上开放，需要密码登录。密码（只显示这一次，请记下）：{password}")
    app = create_app(ws, host=host)
    shown = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
    print(f"工作区：{ws.folder}\n请在浏览器中打开 {shown}（按 Ctrl+C 停止）")
    sys.stdout.flush()
    if open_browser:
        threading.Timer(1.0, lambda: webbrowser.open(shown)).start()
    uvicorn.run(app, host=host, port=port, log_level="warning")
    ws.close()
    return 0
