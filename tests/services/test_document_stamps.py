"""Every document handed out carries the latest checkpoint's stamp (text and QR code), and
`flask audit checkpoint verify-document FILE` checks it against the system: a document exported
before a tampering fails after it."""
import io
import zipfile

import pytest
from openpyxl import load_workbook

from app.extensions import db
from app.models import Role
from app.services import attendance, subsidy_export
from app.services.checkpoints import create_checkpoint
from app.services.document_stamps import MARK, check_document, qr_svg
from app.services.trace import open_trace
from app.web.audit.exports import trace_pdf, trace_xlsx
from tests.attendance_helpers import backdate_check_in, running_class
from tests.factories import arrange_confirmed_alternative, make_trainee, make_user
from tests.subsidy_helpers import claimed_class
from tests.tamper import behind_the_back


def _export(app, tmp_path, trainee_id, claim=None) -> dict:
    """The learner's trace (and ``claim``'s) documents, written to ``tmp_path``."""
    auditor = make_user(Role.AUDITOR)
    with app.test_request_context():
        trace = open_trace(auditor, trainee_id, "pdf")
        files = {"trace.xlsx": trace_xlsx(trace), "trace.pdf": trace_pdf(trace)}
    if claim is not None:
        files.update({"claim.csv": subsidy_export.export_csv(claim), "claim.xlsx": subsidy_export.export_xlsx(claim)})
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return files


@pytest.fixture
def exported(app, tmp_path):
    """A prepared claim, a checkpoint, and the claim's and a learner's documents exported."""
    _world, _klass, claim, paid, _short = claimed_class()
    checkpoint = create_checkpoint()
    return checkpoint, tmp_path, _export(app, tmp_path, paid.id, claim)


@pytest.fixture
def clean_export(app, tmp_path):
    """A trainee checked in and out through the services (every record agrees), a checkpoint,
    and their trace exported."""
    admin, instructor = make_user(Role.ADMIN), make_user(Role.INSTRUCTOR)
    trainee = make_trainee("张甲", actor=admin)
    running_class(admin, instructor, [trainee])
    arrange_confirmed_alternative(admin, trainee.id)
    assert attendance.check_alternative(instructor, trainee.id, "check_in").accepted
    backdate_check_in(25)
    assert attendance.check_alternative(instructor, trainee.id, "check_out").accepted
    db.session.rollback()
    checkpoint = create_checkpoint()
    return checkpoint, tmp_path, _export(app, tmp_path, trainee.id)


def test_documents_carry_the_latest_checkpoint(exported):
    checkpoint, _path, files = exported
    stamp = f"{MARK} {checkpoint.digest}"
    assert files["claim.csv"].decode("utf-8-sig").splitlines()[-1] == f"审计检查点,{stamp}"
    assert load_workbook(io.BytesIO(files["claim.xlsx"])).active["E1"].value == stamp
    book = load_workbook(io.BytesIO(files["trace.xlsx"]))
    assert any(stamp in str(cell.value) for ws in book.worksheets for row in ws.iter_rows() for cell in row)
    assert stamp.encode() in files["trace.pdf"]
    assert qr_svg(stamp).startswith("<svg")
    assert zipfile.ZipFile(io.BytesIO(files["claim.xlsx"])).testzip() is None


def test_documents_verify_until_the_database_is_tampered_with(app, clean_export, runner):
    _checkpoint, path, files = clean_export
    for name in files:
        result = runner.invoke(args=["audit", "checkpoint", "verify-document", str(path / name)])
        assert result.exit_code == 0 and "document verifies" in result.output, (name, result.output)
    behind_the_back(app, "DELETE FROM audit_entries WHERE seq > 1")
    for name in files:
        result = runner.invoke(args=["audit", "checkpoint", "verify-document", str(path / name)])
        assert result.exit_code == 1 and "its tail was cut" in result.output, (name, result.output)


def test_a_ledger_edit_after_the_export_fails_the_document(app, clean_export, runner):
    _checkpoint, path, _files = clean_export
    behind_the_back(app, "UPDATE hours_ledger SET minutes = minutes + 600")
    result = runner.invoke(args=["audit", "checkpoint", "verify-document", str(path / "trace.pdf")])
    assert result.exit_code == 1 and "minutes" in result.output, result.output


def test_a_document_of_another_system_or_without_a_stamp_fails(app, exported):
    checkpoint, _path, files = exported
    forged = files["claim.csv"].replace(checkpoint.digest.encode(), b"0" * 64)
    assert check_document(db.session, forged).problems == [f"checkpoint {'0' * 64} is not among the signed checkpoints"]
    assert check_document(db.session, b"no stamp").digest is None
