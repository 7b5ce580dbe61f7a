"""Real-name registry (R1)."""
import pytest
from sqlalchemy import func, select

from app.errors.exceptions import ConflictError, ValidationError
from app.extensions import db
from app.models import AuditEntry, Sex, Trainee
from app.services.registry import TraineeInput, register_trainee, update_trainee
from tests.factories import make_trainee, resident_id


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_register_derives_birth_date_and_sex_and_audits(app):
    trainee = make_trainee("欧阳娜娜", "11010519491231002X")
    assert trainee.birth_date.isoformat() == "1949-12-31"
    assert trainee.sex is Sex.FEMALE  # 17th digit 2 is even
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.object_id == str(trainee.id)))
    assert entry.action == "trainee.registered"
    assert entry.payload["id_number"] == "110105********002X"


@pytest.mark.parametrize("number, phrase", [
    ("110105194912310021", "校验码"),
    ("110105194902300023", "不是有效日期"),
    ("1101051949123100", "18 位"),
    ("210105209912310018", "晚于今天"),
])
def test_register_refuses_bad_id_numbers(app, number, phrase):
    with pytest.raises(ValidationError) as info:
        register_trainee(None, TraineeInput("张三", number, "13912345678", "高校毕业生"))
    assert phrase in info.value.errors["id_number"]
    assert _count(Trainee) == 0 and _count(AuditEntry) == 0


def test_register_refuses_duplicate_id_number(app):
    number = resident_id()
    make_trainee("张三", number)
    with pytest.raises(ConflictError) as info:
        make_trainee("李四", number.lower())
    assert info.value.code == "duplicate_id_number"
    assert _count(Trainee) == 1


@pytest.mark.parametrize("field, data", [
    ("name", TraineeInput("张", "", "13912345678", "高校毕业生")),
    ("phone", TraineeInput("张三", "", "12345", "高校毕业生")),
    ("category", TraineeInput("张三", "", "13912345678", "外星人")),
    ("employer", TraineeInput("张三", "", "13912345678", "企业职工")),
])
def test_register_names_the_wrong_field(app, field, data):
    data = TraineeInput(data.name, resident_id(), data.phone, data.category, data.employer)
    with pytest.raises(ValidationError) as info:
        register_trainee(None, data)
    assert set(info.value.errors) == {field}


def test_update_audits_only_what_changed(app):
    trainee = make_trainee()
    update_trainee(None, trainee.id, "138 0000 1111", "企业职工", "石家庄钢铁厂")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "trainee.updated"))
    assert entry.payload == {"phone": ["13912345678", "13800001111"],
                             "category": ["高校毕业生", "企业职工"], "employer": ["", "石家庄钢铁厂"]}


@pytest.mark.parametrize("name", ["𠀀明", "王𡒄", "李〇", "欧阳\uf900", "艾力·买买提",
                                  "山田・太郎", "John Smith", "Anne-Marie Dupont", "王\U0002b820"])
def test_legal_names_of_every_han_block_and_with_middle_dots_are_registered(app, name):
    trainee = register_trainee(None, TraineeInput(name, resident_id(), "13912345678", "高校毕业生"))
    assert trainee.name == name


@pytest.mark.parametrize("name, shown", [
    ("张", "2"), ("张" * 51, "51"), ("张3", "3"), ("张三😀", "😀"), ("·张三", "·"),
    ("张三-", "-"), ("张··三", None), ("张\u200b三", "U+200B"),
])
def test_bad_legal_names_are_refused_saying_what_is_wrong(app, name, shown):
    with pytest.raises(ValidationError) as info:
        register_trainee(None, TraineeInput(name, resident_id(), "13912345678", "高校毕业生"))
    message = info.value.errors["name"]
    assert shown is None or shown in message
    assert _count(Trainee) == 0


def _full_width(text: str) -> str:
    return text.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))


@pytest.mark.parametrize("typed", [
    lambda n: _full_width(n), lambda n: n[:5] + _full_width(n[5]) + n[6:], lambda n: n[:17] + "x",
    lambda n: " " + n[:17] + "ｘ "])
def test_full_width_and_lower_case_forms_are_the_same_record(app, typed):
    number = "11010519491231002X"
    first = make_trainee("欧阳娜娜", number)
    assert first.id_number == number
    with pytest.raises(ConflictError) as info:
        register_trainee(None, TraineeInput("欧阳娜娜", typed(number), "13912345678", "高校毕业生"))
    assert info.value.code == "duplicate_id_number"
    assert _count(Trainee) == 1


def test_full_width_number_is_stored_in_ascii(app):
    trainee = register_trainee(None, TraineeInput("欧阳娜娜", _full_width("11010519491231002X"), "13912345678",
                                                  "高校毕业生"))
    assert trainee.id_number == "11010519491231002X"


@pytest.mark.parametrize("digit", ["\u0661", "\u06f1", "\u0967", "\U0001d7cf"])  # Arabic-Indic, Persian, Devanagari, math bold
def test_digits_of_other_scripts_are_refused_with_a_message(app, digit):
    number = resident_id()
    make_trainee("张三", number)
    forged = number[:10] + digit + number[11:] if number[10] == "1" else number.replace(number[10], digit, 1)
    with pytest.raises(ValidationError) as info:
        register_trainee(None, TraineeInput("张三", forged, "13912345678", "高校毕业生"))
    assert "其他文字的数字" in info.value.errors["id_number"]
    assert _count(Trainee) == 1


@pytest.mark.parametrize("bank, account, field", [
    ("中国农业银行", "", "payee_account"),              # a bank without its account
    ("", "6228480012345678", "payee_bank"),             # an account without its bank
    ("中国农业银行", "62284800", "payee_account"),       # too short
    ("中国农业银行", "6228-4800-1234-567A", "payee_account"),  # a letter
])
def test_register_refuses_incomplete_or_malformed_payee(app, bank, account, field):
    with pytest.raises(ValidationError) as info:
        register_trainee(None, TraineeInput("张三", resident_id(), "13912345678", "高校毕业生", "", bank, account))
    assert set(info.value.errors) == {field}
    assert ":" not in info.value.message and field not in info.value.message  # words, no field codes
    assert _count(Trainee) == 0 and _count(AuditEntry) == 0


def test_payee_is_cleaned_stored_and_audited_masked(app):
    trainee = register_trainee(None, TraineeInput("张三", resident_id(), "13912345678", "高校毕业生", "",
                                                  " 中国农业银行 ", "６２２８ ４８００-１２３４ ５６７８"))
    assert (trainee.payee_bank, trainee.payee_account) == ("中国农业银行", "6228480012345678")
    update_trainee(None, trainee.id, trainee.phone, trainee.category, "", ("中国银行", "6013820012345678901"))
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "trainee.updated"))
    assert entry.payload["payee_account"] == ["************5678", "***************8901"]
    assert "6013820012345678901" not in str(entry.payload)
    update_trainee(None, trainee.id, "13600001111", trainee.category)  # payee untouched when not given
    assert db.session.get(Trainee, trainee.id).payee_account == "6013820012345678901"
