"""Generate the DOCX and PDF files of the Docent sample corpus.

The sample corpus in data/sample/ is a set of internal documents of a
fictional company, Quillmate Labs (Tampere, Finland), which makes the Pelican
handheld barcode/RFID scanners and the Harbor fleet-management service. It is
used by Docent's tests and demos; tests/fixtures/sample_questions.jsonl holds
questions whose answers appear in these documents.

The Markdown, plain-text and HTML files in data/sample/ are written by hand.
This script holds the content of the twelve DOCX and PDF files as Python data
and renders them with python-docx and fpdf2:

    .venv/bin/python data/make_sample.py      # run from the repository root

The output is deterministic: document metadata dates are fixed, and the ZIP
entries of the DOCX files get a fixed timestamp, so rerunning the script
reproduces the same bytes.

Content model: each document is a dict with "path" (relative to data/sample/),
"title", "date" and "sections", a list of (level, heading, blocks). A block is
a paragraph string, ("bullets", [items]), ("steps", [items]) or
("table", [header cells], [[row cells], ...]).
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

from docx import Document
from docx.shared import Pt
from fpdf import FPDF
from fpdf.enums import XPos, YPos

SAMPLE_DIR = Path(__file__).resolve().parent / "sample"
ZIP_TIMESTAMP = (2024, 12, 1, 0, 0, 0)
AUTHOR = "Quillmate Labs Oy"


# ---------------------------------------------------------------------------
# Small helpers that keep the content below readable
# ---------------------------------------------------------------------------

def bullets(*items: str) -> tuple:
    return ("bullets", list(items))


def steps(*items: str) -> tuple:
    return ("steps", list(items))


def table(header: list[str], *rows: list[str]) -> tuple:
    return ("table", header, [list(r) for r in rows])


def when(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, 9, 0, 0, tzinfo=dt.timezone.utc)


# ---------------------------------------------------------------------------
# Rendering: PDF (fpdf2, core fonts)
# ---------------------------------------------------------------------------

class _SamplePDF(FPDF):
    def __init__(self, footer_text: str):
        super().__init__(format="A4")
        self.footer_text = footer_text

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font("Helvetica", "", 8)
        self.set_text_color(120, 120, 120)
        self.cell(0, 6, f"{self.footer_text} - page {self.page_no()}", align="C")
        self.set_text_color(0, 0, 0)


def _pdf_line(pdf: FPDF, text: str, height: float, indent: float = 0) -> None:
    pdf.set_x(pdf.l_margin + indent)
    pdf.multi_cell(pdf.epw - indent, height, text,
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def write_pdf(doc: dict, path: Path) -> None:
    text = repr(doc)
    if not text.isascii():
        raise ValueError(f"{doc['path']}: PDF content must be ASCII")
    pdf = _SamplePDF(doc.get("footer", "Quillmate Labs Oy - Internal"))
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_title(doc["title"])
    pdf.set_author(AUTHOR)
    pdf.set_creator("data/make_sample.py")
    pdf.set_creation_date(doc["date"])
    pdf.add_page()

    pdf.set_font("Helvetica", "B", 20)
    _pdf_line(pdf, doc["title"], 9)
    pdf.ln(3)

    for level, heading, blocks in doc["sections"]:
        size = {1: 15, 2: 12.5}[level]
        # keep a heading together with the start of its first paragraph
        if pdf.get_y() > pdf.h - 45:
            pdf.add_page()
        pdf.ln(4 if level == 1 else 2)
        pdf.set_font("Helvetica", "B", size)
        _pdf_line(pdf, heading, size * 0.5)
        pdf.ln(1.5)
        pdf.set_font("Helvetica", "", 10.5)
        for block in blocks:
            if isinstance(block, str):
                _pdf_line(pdf, block, 5.2)
                pdf.ln(2.2)
            elif block[0] == "bullets":
                for item in block[1]:
                    _pdf_line(pdf, "- " + item, 5.2, indent=4)
                    pdf.ln(0.8)
                pdf.ln(1.6)
            elif block[0] == "steps":
                for number, item in enumerate(block[1], start=1):
                    _pdf_line(pdf, f"{number}. {item}", 5.2, indent=4)
                    pdf.ln(0.8)
                pdf.ln(1.6)
            elif block[0] == "table":
                _, header, rows = block
                pdf.set_font("Helvetica", "", 9)
                with pdf.table(text_align="LEFT", line_height=4.6) as tbl:
                    for cells in [header, *rows]:
                        row = tbl.row()
                        for cell in cells:
                            row.cell(cell)
                pdf.set_font("Helvetica", "", 10.5)
                pdf.ln(2.2)
            else:
                raise ValueError(f"unknown block {block[0]!r}")

    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))


# ---------------------------------------------------------------------------
# Rendering: DOCX (python-docx, real Word heading styles)
# ---------------------------------------------------------------------------

def write_docx(doc: dict, path: Path) -> None:
    document = Document()
    document.styles["Normal"].font.size = Pt(10.5)

    props = document.core_properties
    created = doc["date"].replace(tzinfo=None)
    props.title = doc["title"]
    props.author = AUTHOR
    props.last_modified_by = AUTHOR
    props.created = created
    props.modified = created
    props.revision = 1
    props.comments = ""

    document.add_heading(doc["title"], level=0)  # style "Title"
    for level, heading, blocks in doc["sections"]:
        document.add_heading(heading, level=level)  # "Heading 1" / "Heading 2"
        for block in blocks:
            if isinstance(block, str):
                document.add_paragraph(block)
            elif block[0] == "bullets":
                for item in block[1]:
                    document.add_paragraph(item, style="List Bullet")
            elif block[0] == "steps":
                for number, item in enumerate(block[1], start=1):
                    document.add_paragraph(f"{number}. {item}")
            elif block[0] == "table":
                _, header, rows = block
                tbl = document.add_table(rows=1, cols=len(header))
                tbl.style = "Table Grid"
                for cell, text in zip(tbl.rows[0].cells, header):
                    cell.text = ""
                    cell.paragraphs[0].add_run(text).bold = True
                for cells in rows:
                    for cell, text in zip(tbl.add_row().cells, cells):
                        cell.text = text
                document.add_paragraph()
            else:
                raise ValueError(f"unknown block {block[0]!r}")

    # python-docx stamps ZIP entries with the current time; rewrite the
    # archive with a fixed timestamp so the output is byte-for-byte stable.
    buffer = io.BytesIO()
    document.save(buffer)
    buffer.seek(0)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(buffer) as src, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIMESTAMP)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, src.read(info.filename))


# ===========================================================================
# Content
# ===========================================================================

# ---------------------------------------------------------------------------
# HR: Employee Handbook (PDF, long)
# ---------------------------------------------------------------------------

EMPLOYEE_HANDBOOK = {
    "path": "hr/employee-handbook.pdf",
    "title": "Quillmate Labs Employee Handbook",
    "date": when(2024, 4, 1),
    "footer": "Quillmate Labs Employee Handbook 2024/2025 - Internal",
    "sections": [
        (1, "About this handbook", [
            "Edition 2024/2025, valid from 1 April 2024. Maintained by HR; "
            "questions to Helena Saarikivi, HR Director.",
            "This handbook summarises the everyday rules on working time, "
            "leave, pay, benefits and the office. Separate policies cover "
            "remote work, travel and expenses, equipment and the code of "
            "conduct; where this handbook and a separate policy disagree, the "
            "separate policy applies. Employment terms are also governed by "
            "Finnish law and the collective agreement for the technology "
            "industry. Nothing in this handbook reduces the rights those give "
            "you.",
        ]),
        (1, "1. Welcome to Quillmate Labs", [
            "Quillmate Labs was founded in 2014 by Maarit Lehtola, our CEO, and "
            "Joonas Rautio, our CTO, in a rented basement in Hervanta. The "
            "first scanner, the Pelican P1, shipped in 2016 to a library "
            "chain in Pirkanmaa. The Harbor fleet-management service followed "
            "in 2018. Today about 140 people from 11 nationalities work at "
            "Quillmate, and Pelican scanners are used by customers in 23 "
            "countries. Revenue in 2023 was EUR 31.4 million.",
            "Our head office is on the 4th and 5th floors of "
            "Lokkisaarenkatu 7 in Tampere. The repair centre and spare parts "
            "warehouse, with 18 employees, is at Teollisuustie 14 in "
            "Kangasala, about 20 minutes from the office by car.",
        ]),
        (2, "1.1 How we are organised", [
            bullets(
                "Hardware: Lauri Hakkarainen, Head of Hardware.",
                "Firmware: Kasper Holm, Firmware Engineering Lead.",
                "Harbor product: Veera Lindqvist, Product Manager; Harbor "
                "engineering reports to the CTO.",
                "Customer Support: Priya Raman, Head of Customer Support.",
                "Finance: Elina Koskinen, Chief Financial Officer.",
                "HR: Helena Saarikivi, HR Director.",
                "IT: Tuomas Ekholm, IT Manager.",
            ),
            "The management team meets every Monday. Its notes are published "
            "on the intranet by Wednesday. The whole company meets at the "
            "monthly all-hands on the first Thursday of the month at 15:00, "
            "in the office and online.",
        ]),
        (1, "2. Working hours", [
            "Regular working time is 7.5 hours a day and 37.5 hours a week, "
            "Monday to Friday. The lunch break is 30 minutes and is not "
            "working time. You may also take two short coffee breaks, which "
            "are working time.",
        ]),
        (2, "2.1 Flexible working time", [
            "Most roles use flexible working time. You may start and finish "
            "your day at any time within the flex band of 7:00 to 19:00, as "
            "long as you are available during core hours and your team's "
            "needs are covered. Your daily working time may be up to 3 hours "
            "longer or shorter than 7.5 hours.",
            "Differences accumulate in your flex balance. The balance may be "
            "at most 40 hours in plus and 10 hours in minus at the end of a "
            "month. Hours above the plus limit are not carried over unless "
            "your manager has agreed to them as overtime. You can take up to "
            "three full flex days per month, agreed with your manager in "
            "advance.",
        ]),
        (2, "2.2 Overtime", [
            "Overtime is work beyond 37.5 hours a week that your manager has "
            "asked for or approved in advance. Working a long day on your own "
            "initiative goes to the flex balance, not to overtime. Overtime "
            "is paid according to the collective agreement: the first 2 hours "
            "of daily overtime with a 50 percent supplement and further hours "
            "with a 100 percent supplement. You can ask to convert overtime "
            "into time off instead of pay.",
        ]),
        (2, "2.3 Recording working time", [
            "Record your working hours in Kompassi every week. The deadline "
            "is Monday at 12:00 for the previous week. Managers approve the "
            "hours by Wednesday. Missing hours delay the payment of overtime "
            "and on-call compensation.",
        ]),
        (1, "3. Annual leave", [
            "The leave year runs from 1 April to 31 March. You earn 2.5 days "
            "of annual leave for every full month of employment, which gives "
            "30 days for a full leave year. As in Finnish law, annual leave "
            "days include Saturdays, so 30 days equal five calendar weeks.",
        ]),
        (2, "3.1 Pelican days", [
            "In addition to statutory leave, Quillmate gives long-serving "
            "employees extra paid days off, called Pelican days. You get 3 "
            "Pelican days per leave year after 3 years of employment, and 5 "
            "Pelican days after 10 years. Pelican days must be used within "
            "the leave year; they cannot be saved or paid out.",
        ]),
        (2, "3.2 Summer and winter leave", [
            "Up to 18 days of leave (three weeks) are taken as summer leave "
            "between 2 May and 30 September. Submit your summer leave request "
            "in Kompassi by 15 March. Managers confirm summer leave by 15 "
            "April, trying to give everyone at least two consecutive weeks in "
            "July if they want them. The remaining 12 days are winter leave "
            "and must be used by 30 April of the following year.",
            "Customer Support and the repair centre plan summer leave in "
            "three rounds so that the service is staffed all summer.",
        ]),
        (2, "3.3 Holiday bonus and saved leave", [
            "The holiday bonus is 50 percent of the holiday pay for your "
            "summer leave and is paid with the June salary. If you prefer, "
            "you can exchange the holiday bonus for paid time off; tell "
            "payroll by 31 March.",
            "You may save up to 10 days of leave per year as saved leave, to "
            "be used later for a longer break, for example a trip or a study "
            "period. Agree the use of saved leave with your manager at least "
            "two months in advance.",
        ]),
        (1, "4. Sick leave and health", [
            "If you are ill, tell your manager before 9:30 on the first day "
            "of absence, by phone or chat message, and mark the absence in "
            "Kompassi. You do not need to explain your symptoms.",
        ]),
        (2, "4.1 Certificates and pay", [
            "For absences of up to 3 calendar days you can report sick "
            "yourself without a certificate. From the 4th day, you need a "
            "certificate from occupational health or another doctor. A nurse "
            "from occupational health can certify sick leave of up to 5 days, "
            "also by phone.",
            "Quillmate pays full salary during sick leave for up to 60 "
            "calendar days per illness. After that, the sickness allowance "
            "from Kela is paid to the company for as long as salary is paid. "
            "Repeated short absences are discussed with the employee in an "
            "early support conversation.",
        ]),
        (2, "4.2 Child's sudden illness", [
            "If your child under 12 years falls ill, one parent can stay at "
            "home to arrange care or to care for the child for up to 4 days "
            "per illness with full pay. Report it in Kompassi as child's "
            "sickness. A certificate is needed from the 3rd day.",
        ]),
        (2, "4.3 Occupational health care", [
            "Our occupational health provider is Kuntoportti Health, at its "
            "clinic in Hatanpaa, Tampere. Book appointments through the "
            "Kuntoportti app or by phone on 03 5551 2040. Occupational health "
            "covers visits to a general practitioner and an occupational "
            "health nurse, laboratory tests and X-rays ordered by them, up to "
            "5 physiotherapy visits per year, and up to 6 sessions with a "
            "psychologist per year. Specialist visits need a referral from "
            "the occupational health doctor. Dental care is not included.",
            "Free flu vaccinations are given at the office every October. "
            "New employees are invited to a health check within their first "
            "six months.",
        ]),
        (1, "5. Family leave", [
            "Quillmate pays full salary for the first 48 working days of "
            "parental leave to each parent, regardless of gender, if the "
            "employment has lasted at least 6 months when the leave starts. "
            "After that, parental allowance is paid by Kela. Tell your "
            "manager and HR about parental leave at least two months before "
            "it starts; for shorter periods of up to 12 working days, one "
            "month's notice is enough.",
            "After parental leave, you may work part time until your child "
            "is three years old. HR helps you and your manager agree on the "
            "arrangement. Every new parent also receives the Quillmate baby "
            "package, which includes a soft-toy pelican.",
        ]),
        (1, "6. Other paid leave", [
            bullets(
                "Your own wedding or registered partnership: 1 day.",
                "Funeral of a close relative: 1 day, and up to 2 days if the "
                "funeral is abroad.",
                "Your 50th and 60th birthday: the day off, if it falls on a "
                "working day.",
                "Moving house: 1 day per calendar year.",
                "Reservist refresher training: the company pays the "
                "difference between your salary and the reservist pay.",
                "Examinations for studies that support your work: the exam "
                "day, agreed with your manager.",
            ),
        ]),
        (1, "7. Public holidays and office closures", [
            "The office is closed on Finnish public holidays and on "
            "Christmas Eve and Midsummer Eve. Between Christmas and New Year, "
            "from 27 to 30 December, the office is also closed; use annual "
            "leave or flex time for those days. Customer Support and the "
            "on-call engineers keep the service running on a reduced roster "
            "during closures.",
            "Quillmate Day is celebrated on the Friday closest to 14 June, "
            "the anniversary of the company's founding. The day is spent on "
            "a company outing; participation counts as working time.",
        ]),
        (1, "8. Pay and benefits", [
            "Salaries are paid monthly on the 20th day of the month. If the "
            "20th is a Saturday, Sunday or public holiday, salary is paid on "
            "the previous banking day. Payslips are available in Kompassi. "
            "Salaries are reviewed once a year in April, and changes take "
            "effect on 1 May.",
        ]),
        (2, "8.1 Bonus", [
            "All permanent employees are included in the annual company "
            "bonus. The bonus can be up to 8 percent of annual base salary, "
            "depending on company revenue and the growth of Harbor "
            "subscriptions. It is paid with the March salary for the "
            "previous calendar year. Employees who have given notice before "
            "the payment date are not eligible.",
        ]),
        (2, "8.2 Benefits", [
            bullets(
                "Lunch benefit: EUR 12.75 per working day in the office, "
                "loaded to the Lounasraha mobile wallet. The taxable value is "
                "deducted from your net salary.",
                "Sports and culture benefit: EUR 400 per calendar year for "
                "gyms, swimming, concerts, theatre and museums.",
                "Commuting: the company pays EUR 40 per month towards a "
                "Tampere regional public transport season ticket.",
                "Bicycle benefit: lease a bicycle worth up to EUR 3,000 "
                "through salary exchange, with a lease period of 36 months.",
                "Friday sauna: the sauna on the 5th floor is heated on "
                "Fridays from 16:00. Sign up on the list next to the door.",
            ),
        ]),
        (1, "9. The office", [
            "The office is open to badge holders from 6:00 to 22:00 on "
            "weekdays. Weekend access must be agreed with Facilities in "
            "advance. Reception on the 4th floor is staffed from 8:00 to "
            "16:00. The Facilities Manager is Ilkka Toivonen.",
        ]),
        (2, "9.1 Meeting rooms", [
            "Meeting rooms are named after Finnish water birds and are booked "
            "in the calendar.",
            bullets(
                "Kuikka (4th floor): 14 people, video conferencing, the "
                "largest room. Bookings of more than 4 hours need approval "
                "from Facilities.",
                "Telkka (4th floor): 8 people, video conferencing.",
                "Haahka (4th floor): 4 people.",
                "Sotka (5th floor): 6 people. Used as the incident war room "
                "when needed.",
                "Lokki (5th floor): four single-person phone booths, not "
                "bookable, maximum 45 minutes at a time.",
                "Tavi (5th floor): the IT service point, not a meeting room.",
            ),
            "Release a booking you do not need, so that others can use the "
            "room. Rooms that are booked but empty 15 minutes after the "
            "start time are released automatically.",
        ]),
        (2, "9.2 Visitors", [
            "Register visitors in the visitor system at least one working day "
            "in advance. Visitors get a badge at reception and must be "
            "accompanied by their host at all times. Visitors to the hardware "
            "lab sign a non-disclosure agreement at reception before entering.",
        ]),
        (2, "9.3 Safety", [
            "If the fire alarm sounds, leave the building by the nearest "
            "staircase; do not use the lifts. The assembly point is in "
            "Lokkisaari park across the street. First aid kits and "
            "defibrillators are next to the lifts on both floors. Ten "
            "employees are trained as first aiders; their names are on the "
            "notice board in the kitchen.",
        ]),
        (1, "10. Leaving Quillmate", [
            "Your notice period is one month, regardless of the length of "
            "your employment. The company's notice period follows the "
            "Employment Contracts Act and depends on how long you have been "
            "employed. Give your notice in writing to your manager, with a "
            "copy to HR.",
            "HR invites you to an exit interview during your last two weeks. "
            "Your final salary and compensation for unused annual leave are "
            "paid on the next regular payday. Request your employment "
            "certificate in Kompassi; HR delivers it within 5 working days. "
            "Former employees are welcome to join the Quillmate alumni "
            "network.",
        ]),
        (1, "11. Contacts", [
            bullets(
                "HR, general questions: hr@quillmate.fi, extension 4200.",
                "HR Business Partner, Riikka Salo: extension 4205.",
                "Payroll, Mikael Strand: payroll@quillmate.fi, extension "
                "4210.",
                "Facilities and reception, Ilkka Toivonen: extension 4150.",
                "Kuntoportti Health appointments: 03 5551 2040.",
            ),
        ]),
    ],
}


# ---------------------------------------------------------------------------
# IT: Backup and restore runbook (PDF)
# ---------------------------------------------------------------------------

BACKUP_RESTORE = {
    "path": "it/backup-restore.pdf",
    "title": "Backup and Restore Runbook",
    "date": when(2024, 6, 5),
    "footer": "Quillmate Labs - Backup and Restore Runbook rev. 7 - Internal",
    "sections": [
        (1, "Scope and owners", [
            "Revision 7, 5 June 2024. This runbook describes what Quillmate "
            "Labs backs up, how long backups are kept, and how to restore "
            "data. Harbor production backups are owned by Daniel Okafor, "
            "Site Reliability Engineering Lead. Backups of internal IT "
            "systems are owned by Tuomas Ekholm, IT Manager.",
            "Targets for Harbor production: recovery point objective (RPO) of "
            "5 minutes, and recovery time objective (RTO) of 4 hours for a "
            "full database restore.",
        ]),
        (1, "What is backed up", [
            bullets(
                "Harbor production database (PostgreSQL cluster "
                "harbor-pg-main): full backup every night at 01:30 UTC, and "
                "continuous archiving of the write-ahead log, shipped at "
                "least every 5 minutes. This allows point-in-time restore to "
                "any moment in the last 35 days.",
                "Harbor object storage (firmware images, diagnostic logs, "
                "enrollment sheets): versioned buckets replicated to "
                "Frankfurt. Deleted or overwritten objects are kept for 30 "
                "days.",
                "Internal file shares on files01: nightly backup at 22:00 "
                "Finnish time. Daily backups are kept for 90 days and "
                "monthly backups for 12 months.",
                "Kompassi and QM Desk: the vendors back up these services. In "
                "addition, IT exports the data every Sunday and keeps the "
                "exports for 12 months.",
                "Source code: the Git server is backed up nightly, and every "
                "repository is also mirrored to a second location hourly.",
                "Firmware signing keys: stored in a hardware security module. "
                "The offline backup is kept on two encrypted USB tokens in "
                "safes in Tampere and Kangasala; restoring them needs two of "
                "the four key custodians.",
            ),
            "Laptops are not backed up. Keep work files in the company cloud "
            "drive, which keeps deleted files for 93 days and can restore "
            "earlier versions of a file by yourself.",
        ]),
        (1, "Where backups are stored", [
            "All backups are encrypted with AES-256 before they leave the "
            "source system. Harbor backups go to the storage bucket "
            "qm-backup-sto1 in Stockholm and are copied to qm-backup-fra1 in "
            "Frankfurt. The buckets use object lock: a backup cannot be "
            "deleted or changed by anyone, including administrators, until "
            "it is 35 days old. This protects backups against ransomware and "
            "against mistakes.",
            "Encryption keys for backups are in the key management service. "
            "A printed copy of the recovery procedure and the break-glass "
            "credentials is sealed in the safe at the Tampere office.",
        ]),
        (1, "Requesting a restore (all employees)", [
            "If you have lost a file from a shared folder, open a ticket in "
            "QM Desk with the category \"Restore request\". Give the full "
            "path, the approximate time when the file was last correct, and "
            "whether the restored copy should replace the current file. IT "
            "restores files within one business day. Restored files are "
            "placed next to the original in a folder named _restored "
            "followed by the date, so that nothing is overwritten by "
            "accident.",
            "For files in your own cloud drive, use the version history or "
            "the recycle bin first; IT cannot restore them faster than you "
            "can.",
        ]),
        (1, "Restoring the Harbor database (SRE)", [
            "A full restore of the Harbor database is a SEV1 incident. "
            "Declare the incident first and follow the incident runbook; the "
            "restore itself is done as follows.",
            steps(
                "Agree the target time with the incident commander: the "
                "last moment before the data was damaged, in UTC.",
                "Provision a new cluster from the backups: "
                "qmctl db restore --cluster harbor-pg-main --target-time "
                "\"2024-06-01 10:15:00+00\" --into harbor-pg-restore",
                "Wait for the restore to finish. Progress is shown in the "
                "Grafana dashboard \"Database restore\". A full restore of "
                "the current database of about 1.9 TB takes between 2 and 3 "
                "hours.",
                "Run the verification script verify_restore.sh against "
                "harbor-pg-restore. It compares row counts and checks the "
                "latest device events against the target time.",
                "Get approval from the Harbor data owner, Veera Lindqvist, "
                "or her deputy before switching traffic.",
                "Switch Harbor to the restored cluster by changing the "
                "database endpoint in the deployment configuration, then "
                "restart the API pods.",
                "Keep the old cluster untouched for 7 days for analysis. Do "
                "not delete it without approval from the SRE Lead.",
            ),
        ]),
        (2, "Restoring data for a single customer", [
            "If a customer has deleted data by mistake, for example a "
            "configuration profile or a site with its devices, the data can "
            "be restored for that tenant only. Restore the database to a "
            "separate cluster as above, then export the tenant with qmctl "
            "tenant export and import the missing objects. A written request "
            "from the customer's tenant owner is required. Enterprise "
            "customers get two single-tenant restores per year free of "
            "charge; other restores are charged at EUR 1,500 each.",
        ]),
        (1, "Restore testing", [
            "Backups that have never been restored are not backups. The SRE "
            "team runs a full restore test of the Harbor database on the "
            "first Tuesday of January, April, July and October. The test "
            "restores the latest backup to an isolated cluster, runs the "
            "verification script and records the time taken. The last test, "
            "on 2 April 2024, took 2 hours 47 minutes. File share restores "
            "are tested by IT once a month by restoring a random folder.",
            "Test results are stored on the Engineering Wiki under "
            "Reliability > Restore tests and reported to the management team "
            "quarterly.",
        ]),
        (1, "Contacts", [
            bullets(
                "Harbor backups: Daniel Okafor, SRE Lead, extension 4460.",
                "Internal IT backups: Tuomas Ekholm, IT Manager, extension "
                "4401.",
                "Outside office hours: the on-call engineer through the "
                "paging tool.",
            ),
        ]),
    ],
}


# ---------------------------------------------------------------------------
# Product manual: specifications (PDF, specification table written as text)
# ---------------------------------------------------------------------------

PELICAN_SPECIFICATIONS = {
    "path": "product/pelican-specifications.pdf",
    "title": "Pelican User Manual, Part 5: Technical Specifications",
    "date": when(2024, 9, 10),
    "footer": "Pelican User Manual revision F - Quillmate Labs Oy",
    "sections": [
        (1, "About the specifications", [
            "This part of the Pelican User Manual lists the technical "
            "specifications of the Pelican P3, P5 and P5X. Values are typical "
            "values measured by Quillmate Labs at 23 C unless stated "
            "otherwise. Specifications may change without notice; the "
            "values here apply to devices manufactured from March 2024 "
            "(hardware revision C).",
        ]),
        (1, "Model overview", [
            "Pelican P3: compact 1D and 2D barcode scanner for counters, "
            "libraries and offices. Bluetooth only, no display.",
            "Pelican P5: barcode and UHF RFID scanner with a 2.4-inch colour "
            "display, Wi-Fi and Bluetooth, for stockrooms and retail "
            "back-offices.",
            "Pelican P5X: rugged version of the P5 with an extended-range "
            "imager, a longer-range RFID antenna, a hot-swappable battery "
            "and a heated display, for warehouses, yards and cold storage.",
        ]),
        (1, "Barcode imaging", [
            "Imager type. P3: 1.2-megapixel area imager with red LED aiming "
            "dot. P5: 1.2-megapixel area imager with laser aiming line. P5X: "
            "dual-camera extended-range imager with laser aiming line.",
            "Reading distance for Code 128, 20 mil. P3: 4 to 45 cm. P5: 3 to "
            "70 cm. P5X: 10 cm to 3.5 m.",
            "Maximum reading distance for large reflective labels (100 mil). "
            "P3: not applicable. P5: 1.2 m. P5X: 12 m.",
            "Minimum code size. P3: 5 mil 1D, 7.5 mil 2D. P5 and P5X: 4 mil "
            "1D, 6.7 mil 2D.",
            "Motion tolerance. P3: 2.5 m/s. P5 and P5X: 4 m/s.",
            "Supported codes, all models: EAN/UPC, Code 128, GS1-128, Code 39, "
            "Code 93, Interleaved 2 of 5, Codabar, MSI, GS1 DataBar, QR Code, "
            "Data Matrix, PDF417, MicroPDF417, Aztec, MaxiCode and Han Xin.",
        ]),
        (1, "RFID (P5 and P5X only)", [
            "Standard: EPC Gen2 v2, ISO/IEC 18000-63.",
            "Frequency. P5-EU and P5X-EU: 865 to 868 MHz. P5-US and P5X-US: "
            "902 to 928 MHz.",
            "Transmit power: adjustable from 10 to 30 dBm in steps of 1 dB. "
            "Default 27 dBm.",
            "Typical read range with a standard retail label. P5: up to 4 m. "
            "P5X: up to 7 m.",
            "Read rate: up to 900 tags per second with PelicanOS 3.3 or "
            "later.",
            "Antenna: integrated circular-polarised antenna.",
        ]),
        (1, "Connectivity", [
            "Bluetooth. P3: Bluetooth 5.0 with Bluetooth Low Energy, range "
            "up to 30 m in open space. P5 and P5X: Bluetooth 5.2, range up to "
            "60 m in open space.",
            "Wi-Fi. P3: none. P5 and P5X: Wi-Fi 6 (802.11ax), 2.4 and 5 GHz, "
            "with 802.11r, k and v roaming.",
            "USB: USB-C on all models, USB 2.0 data and charging. The scanner "
            "can also work as a wired USB keyboard.",
            "Host interfaces: HID keyboard, serial (SPP and USB CDC) and BLE "
            "for the Pelican Link app.",
        ]),
        (1, "Power", [
            "Battery. P3: 2,600 mAh built-in lithium-ion. P5: 4,000 mAh "
            "removable pack BP-5. P5X: 6,200 mAh hot-swappable pack BP-5X.",
            "Typical operating time in trigger mode with one scan every 5 "
            "seconds. P3: 14 hours, about 18,000 scans. P5: 12 hours. P5X: "
            "16 hours.",
            "Operating time in continuous RFID inventory. P5: about 4 hours. "
            "P5X: about 6 hours.",
            "Charging input: USB-C Power Delivery, 10 W for the P3 and 18 W "
            "for the P5 and P5X.",
        ]),
        (1, "Durability and environment", [
            "Sealing. P3: IP54. P5: IP65. P5X: IP67.",
            "Drop specification to concrete, multiple drops at room "
            "temperature. P3: 1.5 m. P5: 1.8 m. P5X: 2.4 m.",
            "Tumble specification. P3: 500 tumbles from 0.5 m. P5: 1,000 "
            "tumbles from 0.5 m. P5X: 2,000 tumbles from 1 m.",
            "Operating temperature. P3: 0 to +40 C. P5: -10 to +45 C. P5X: "
            "-30 to +50 C.",
            "Storage temperature, all models: -40 to +70 C.",
            "Charging temperature, all models: 0 to +40 C.",
            "Humidity: 5 to 95 percent, non-condensing. The P5X tolerates "
            "condensation when moving in and out of freezers.",
            "Electrostatic discharge: +/-15 kV air discharge, +/-8 kV contact "
            "discharge.",
        ]),
        (1, "Physical", [
            "Dimensions (height x width x depth). P3: 158 x 68 x 84 mm. P5: "
            "176 x 74 x 96 mm. P5X: 189 x 80 x 104 mm.",
            "Weight including battery. P3: 210 g. P5: 320 g. P5X: 455 g.",
            "Colour. P3: graphite grey. P5: graphite grey with yellow "
            "trigger. P5X: safety yellow with black bumpers.",
        ]),
        (1, "Display and controls", [
            "Display. P3: none; status is shown by a three-colour LED and "
            "tones. P5: 2.4-inch colour touch display, 320 x 240 pixels. "
            "P5X: 2.4-inch colour display with a glove-friendly touch layer "
            "and a heater for use down to -30 C.",
            "Controls: trigger and power button on all models; the P5 and "
            "P5X also have two side buttons that can be programmed in Harbor.",
            "Batch memory. P3: 10,000 scans. P5 and P5X: 50,000 scans.",
        ]),
        (1, "Regulatory", [
            "CE and UKCA marked. FCC and ISED certified for the US variants. "
            "Laser aiming (P5 and P5X): Class 2 laser product according to "
            "IEC 60825-1. Contains lithium-ion batteries; transport according "
            "to UN 3481. Complies with RoHS and REACH. Declarations of "
            "conformity are available from help.quillmate.com.",
        ]),
        (1, "Accessories and part numbers", [
            bullets(
                "QC-1 Nest single-slot cradle, all models (with P3 insert).",
                "QC-4 Roost 4-slot charging rack, P5 and P5X.",
                "BP-5 spare battery for the P5.",
                "BP-5X spare battery for the P5X.",
                "TH-2 trigger handle for the P5 and P5X, for long scanning "
                "sessions.",
                "WM-4 wall-mounting bracket kit for the Roost.",
                "HS-3 belt holster for the P3; HS-5 belt holster for the P5 "
                "and P5X.",
            ),
        ]),
        (1, "List prices", [
            "Recommended list prices in the EU, excluding VAT, valid from 1 "
            "September 2024: Pelican P3 EUR 389; Pelican P5 EUR 1,190; "
            "Pelican P5X EUR 1,740; Nest cradle QC-1 EUR 79; Roost rack QC-4 "
            "EUR 289; BP-5 battery EUR 69; BP-5X battery EUR 95; TH-2 "
            "trigger handle EUR 59. Volume discounts are available from 50 "
            "units through resellers.",
        ]),
    ],
}


# ---------------------------------------------------------------------------
# Support: warranty and repairs (PDF, with a table)
# ---------------------------------------------------------------------------

WARRANTY_REPAIRS = {
    "path": "support/warranty-and-repairs.pdf",
    "title": "Pelican Warranty and Repairs Guide",
    "date": when(2024, 8, 19),
    "footer": "Quillmate Labs Oy - Customer Support",
    "sections": [
        (1, "Warranty periods", [
            "Quillmate Labs warrants Pelican products against defects in "
            "materials and workmanship for the following periods, counted "
            "from the date of delivery to the first end customer:",
            bullets(
                "Pelican P3: 2 years.",
                "Pelican P5 and P5X: 3 years.",
                "Batteries (BP-5, BP-5X and the built-in P3 battery): 12 "
                "months. A battery is considered defective if its health "
                "falls below 80 percent within those 12 months under normal "
                "use.",
                "Cradles, racks and other accessories: 1 year.",
            ),
            "A repaired or replaced product is covered for the remaining "
            "warranty period or for 90 days, whichever is longer.",
        ]),
        (1, "What the warranty does not cover", [
            bullets(
                "Damage from drops, impacts or immersion beyond the "
                "specifications in the User Manual.",
                "Liquid damage to the P3, which is splash-proof but not "
                "waterproof.",
                "Cracked displays and scratched scan windows.",
                "Damage caused by non-genuine batteries or chargers. A "
                "scanner that has shown error E-102 is checked for this.",
                "Devices whose housing has been opened by anyone other than "
                "Quillmate or an authorised service partner.",
                "Normal wear of bumpers, hand straps and holsters.",
            ),
        ]),
        (1, "Pelican Care service plans", [
            "Pelican Care extends the warranty and adds accidental damage "
            "cover. It can be bought within 60 days of the purchase of the "
            "scanner and renewed yearly up to 5 years from the delivery "
            "date.",
            table(
                ["Plan", "Price per scanner per year", "Accidental damage",
                 "Replacement"],
                ["Pelican Care for P3", "EUR 39", "1 incident per year",
                 "Standard repair"],
                ["Pelican Care for P5", "EUR 149", "2 incidents per year",
                 "Advance replacement, next business day"],
                ["Pelican Care for P5X", "EUR 189", "2 incidents per year",
                 "Advance replacement, next business day"],
            ),
            "Pelican Care for the P5 and P5X also includes one free battery "
            "replacement during the contract and priority phone support.",
            "With advance replacement, we ship a replacement scanner before "
            "we receive the faulty one. Orders placed before 14:00 Finnish "
            "time on a business day are shipped the same day. Return the "
            "faulty scanner within 10 days in the same box, or we invoice "
            "the list price of the replacement.",
        ]),
        (1, "How to return a scanner (RMA)", [
            steps(
                "Open a case at help.quillmate.com or by email to "
                "support@quillmate.com, and give the serial number and a "
                "description of the fault.",
                "Our agent helps you troubleshoot. Many problems can be "
                "solved without a return.",
                "If a repair is needed, you receive an RMA number in the "
                "form RMA-2024-01873 and, for warranty repairs in the EU, a "
                "prepaid shipping label.",
                "Remove accessories such as holsters and hand straps,"
                " and for the P5 and P5X remove the battery unless "
                "the fault concerns the battery.",
                "Pack the scanner well, write the RMA number on the outside "
                "of the box, and send it to: Quillmate Repair Centre, "
                "Teollisuustie 14, 36220 Kangasala, Finland.",
            ),
            "An RMA number is valid for 30 days. Parcels without an RMA "
            "number may be returned unopened at your cost.",
            "Do not release the scanner from Harbor before sending it. The "
            "repair centre uses Harbor to restore the scanner's enrollment "
            "and configuration after the repair, so that it works as soon as "
            "it arrives back.",
        ]),
        (1, "Repair times", [
            "Our target is to repair and ship scanners within 5 business "
            "days of arrival at the repair centre. You can follow the status "
            "of the repair on your case at help.quillmate.com. If a repair "
            "takes longer than 10 business days because of missing parts, "
            "we offer a loan scanner.",
        ]),
        (1, "Out-of-warranty repairs", [
            "Scanners outside the warranty are repaired at a flat price, "
            "which covers all parts and labour except the battery and "
            "cosmetic parts:",
            table(
                ["Model", "Flat repair price", "Battery replacement"],
                ["Pelican P3", "EUR 119", "EUR 49 (done by repair centre)"],
                ["Pelican P5", "EUR 249", "Use spare BP-5"],
                ["Pelican P5X", "EUR 299", "Use spare BP-5X"],
            ),
            "If the scanner cannot be repaired economically, we offer a "
            "trade-in discount of 20 percent on a new scanner of the same "
            "model. If you decline the repair quote, a diagnostic fee of EUR "
            "45 is charged and the scanner is returned to you. Quotes are "
            "valid for 30 days. Scanners whose owners do not respond within "
            "90 days are recycled.",
        ]),
        (1, "Recycling", [
            "At the end of its life, return any Pelican product to us free "
            "of charge for recycling, with an RMA number of the type "
            "Recycling. We recycle the batteries and electronics according "
            "to the WEEE directive and send you a certificate of recycling "
            "on request.",
        ]),
    ],
}


# ---------------------------------------------------------------------------
# Releases: Harbor 3 release notes (PDF)
# ---------------------------------------------------------------------------

HARBOR_3_RELEASE_NOTES = {
    "path": "releases/harbor-3-release-notes.pdf",
    "title": "Harbor 3 Release Notes (2023)",
    "date": when(2024, 10, 8),
    "footer": "Quillmate Labs Oy - Harbor release notes",
    "sections": [
        (1, "About these notes", [
            "These notes cover the Harbor 3.x releases of 2023, from Harbor "
            "3.3 to Harbor 3.8. Notes for Harbor 3.0 to 3.2 (2022) are in the "
            "release notes archive. Harbor 3.x was followed by Harbor 4.0 in "
            "March 2024. Cloud tenants were upgraded automatically; this "
            "document remains relevant mainly for customers who run the "
            "self-hosted Harbor Private edition.",
        ]),
        (1, "Harbor Private 3.x support", [
            "Harbor Private 3.8 continues to receive security fixes until "
            "30 June 2025. After that date, Harbor Private 3.x is no longer "
            "supported and customers must upgrade to Harbor Private 4. The "
            "latest patch release is Harbor Private 3.8.4, published on 8 "
            "October 2024, which updates the bundled web server and fixes a "
            "cross-site scripting issue in the site name field.",
            "Harbor Private 3.x requires PostgreSQL 13 or later, 8 GB of "
            "memory and 4 CPU cores on the application server for up to "
            "5,000 devices.",
        ]),
        (1, "Harbor 3.8 (14 November 2023)", [
            "Harbor 3.8 is the last feature release of Harbor 3. It is also "
            "the version from which Harbor Private installations can be "
            "upgraded to Harbor 4.",
            bullets(
                "New: GS1 Digital Link codes are parsed in scan logs, showing "
                "the GTIN, batch and expiry date as separate columns.",
                "New: an Export CSV button on every list, replacing the old "
                "Reports > Export page.",
                "New: support for PelicanOS 3.1 and the encryption of stored "
                "batch scans.",
                "Changed: the default session length for signed-in users was "
                "shortened from 7 days to 12 hours.",
            ),
        ]),
        (1, "Harbor 3.7.1 (19 September 2023)", [
            bullets(
                "Fixed: with some identity providers, users were sent back "
                "and forth between Harbor and the sign-in page when their "
                "session expired.",
                "Fixed: the device count on the subscription page included "
                "retired devices.",
            ),
        ]),
        (1, "Harbor 3.7 (5 September 2023)", [
            bullets(
                "New: single sign-on with OpenID Connect for Harbor Pro and "
                "Enterprise.",
                "New: the device status Missing, for devices that have not "
                "reported for a long time, with optional email alerts.",
                "Improved: the device list can be filtered by firmware "
                "version, which makes it easier to find devices that a "
                "rollout has missed.",
            ),
        ]),
        (1, "Harbor 3.6 (20 June 2023)", [
            bullets(
                "New: support for PelicanOS 3.0, including the RFID locate "
                "mode.",
                "New: RFID settings in configuration profiles: transmit "
                "power, session and region.",
                "New: Roost rack monitoring. For racks connected to a Harbor "
                "Dock Agent, Harbor shows which slots are occupied and "
                "whether a battery in a slot is charging or faulty.",
            ),
        ]),
        (1, "Harbor 3.5 (9 May 2023)", [
            bullets(
                "New: device transfer between tenants. A tenant can release "
                "devices with a release code, and another tenant can claim "
                "them, for example when a retail chain sells a store.",
                "New: API tokens can be limited to one or more sites.",
                "Fixed: configuration profiles with more than 40 Wi-Fi "
                "networks could not be saved.",
            ),
        ]),
        (1, "Harbor 3.4 (7 March 2023)", [
            bullets(
                "New: support for the Pelican P3. P3 scanners with firmware "
                "2.0 or later can be enrolled through a phone or tablet "
                "running the Pelican Link app, version 1.0 or later.",
                "New: the Pelican Link app 1.0 for Android and iOS was "
                "released on the same day.",
                "Changed: firmware rollouts now wait until a scanner is "
                "charging before installing an update.",
            ),
        ]),
        (1, "Harbor 3.3 (17 January 2023)", [
            bullets(
                "New: email alerts for low battery, failed firmware updates "
                "and devices that have not reported.",
                "New: the weekly fleet summary email, sent every Monday at "
                "07:00 Finnish time to administrators who subscribe to it. "
                "It lists the number of active devices, failed updates and "
                "batteries that need replacing.",
                "Fixed: site names longer than 64 characters were cut off in "
                "printed enrollment sheets.",
            ),
        ]),
    ],
}


# ---------------------------------------------------------------------------
# Releases: Harbor Dock Agent release notes (PDF)
# ---------------------------------------------------------------------------

DOCK_AGENT_RELEASE_NOTES = {
    "path": "releases/harbor-dock-agent-release-notes.pdf",
    "title": "Harbor Dock Agent Release Notes",
    "date": when(2024, 11, 4),
    "footer": "Quillmate Labs Oy - Harbor Dock Agent",
    "sections": [
        (1, "What the Harbor Dock Agent does", [
            "The Harbor Dock Agent is a small service for Windows and Linux "
            "computers. It connects Pelican P3 scanners (over USB or "
            "Bluetooth) and Nest and Roost cradles (over USB) to Harbor, so "
            "that they can be managed without the Pelican Link app. A "
            "typical installation is one agent on the back-office computer "
            "of each store or warehouse. One agent can serve up to 64 "
            "scanners.",
        ]),
        (1, "System requirements", [
            bullets(
                "Windows 10 version 22H2 or later, Windows 11, or Windows "
                "Server 2019 or later, 64-bit.",
                "Ubuntu 22.04 or 24.04, or Debian 12, on x86-64 or ARM64.",
                "Outbound HTTPS (TCP port 443) to devices.harbor.quillmate.com.",
                "200 MB of disk space and 256 MB of memory.",
            ),
            "The agent's local status page is available at "
            "https://localhost:8443 on the computer where it runs.",
        ]),
        (1, "Installing and registering", [
            steps(
                "In Harbor, go to Settings > Dock Agents and click \"Add "
                "agent\". Choose the site the agent belongs to.",
                "Copy the registration token. The token is valid for 24 "
                "hours and can be used once.",
                "On Windows, run the installer HarborDockAgent-2.1.0-x64.msi "
                "and paste the token when asked. On Linux, install the "
                "harbor-dock-agent package and run: sudo harbor-dock-agent "
                "register --token followed by the token.",
                "The agent appears in Harbor with the status Connected "
                "within a minute.",
            ),
        ]),
        (1, "Version 2.1.0 (4 November 2024)", [
            bullets(
                "New: ARM64 packages for Linux, for example for small "
                "industrial computers.",
                "New: the agent reports the USB power delivered to each "
                "Nest cradle, to detect weak USB ports.",
                "Fixed: the Windows service did not restart automatically "
                "after a crash on some Windows Server 2019 installations.",
            ),
        ]),
        (1, "Version 2.0.3 (13 August 2024)", [
            bullets(
                "Fixed: P3 scanners connected over Bluetooth were shown "
                "twice in Harbor after the computer woke from sleep.",
                "Fixed: high CPU use when a Roost rack with a faulty chain "
                "cable was connected.",
            ),
        ]),
        (1, "Version 2.0.0 (2 July 2024)", [
            "Released together with Harbor 4.2.",
            bullets(
                "New: proxy support, including proxy auto-configuration "
                "(PAC) files and proxies that require authentication.",
                "New: automatic updates of the agent itself, controlled per "
                "site in Harbor. Updates are installed between 02:00 and "
                "04:00 local time.",
                "Changed: the local status page moved from port 8080 to "
                "port 8443 and now uses HTTPS.",
                "Removed: support for Windows 8.1 and for 32-bit Windows.",
            ),
        ]),
        (1, "Version 1.6.2 (11 March 2024)", [
            bullets(
                "Fixed: firmware updates of P3 scanners over Bluetooth "
                "could stop at 99 percent.",
            ),
        ]),
        (1, "Version 1.6.0 (9 January 2024)", [
            bullets(
                "New: Roost slot status for racks chained to other racks.",
                "Improved: the agent keeps up to 7 days of events locally "
                "when Harbor cannot be reached and sends them when the "
                "connection returns.",
            ),
        ]),
        (1, "Known issues", [
            "On Linux, the user running the agent must be a member of the "
            "dialout group to access P3 scanners in USB serial mode. The "
            "package adds the service user automatically, but this fails on "
            "systems where the group has been renamed.",
        ]),
    ],
}


# ---------------------------------------------------------------------------
# HR: Travel and expenses policy (DOCX, with table)
# ---------------------------------------------------------------------------

TRAVEL_EXPENSES = {
    "path": "hr/travel-and-expenses.docx",
    "title": "Travel and Expenses Policy",
    "date": when(2024, 1, 1),
    "sections": [
        (1, "Purpose and ownership", [
            "This policy applies to all business travel and work-related "
            "expenses at Quillmate Labs. Policy owner: Elina Koskinen, Chief "
            "Financial Officer. Effective from 1 January 2024. Travel costs "
            "money and time, so before booking a trip, consider whether a "
            "video meeting would do.",
        ]),
        (1, "Before you travel", [
            "Every trip needs a travel request in Kompassi, approved by your "
            "manager before you book anything. Trips outside Finland must be "
            "approved at least 14 days before departure. Trips outside the "
            "EU and EEA also need a security check by the Information "
            "Security Officer, who may issue a travel laptop.",
            "The approved travel request also registers your trip, so that "
            "the company can reach and help you in an emergency.",
        ]),
        (1, "Booking travel", [
            "Flights and hotels are booked through our travel agency, "
            "Matkaseppa Business Travel, either in their online portal or by "
            "phone on 010 320 4455 (Monday to Friday 8:00 to 18:00). Outside "
            "those hours, Matkaseppa's emergency line is 010 320 4499. Book "
            "trains yourself in the VR app and pay with the company card.",
        ]),
        (2, "Class of travel", [
            bullets(
                "Between Tampere and Helsinki, take the train. Flights "
                "within Finland are allowed only to destinations more than "
                "500 km away.",
                "Flights are booked in economy class. Business class is "
                "allowed when the scheduled flight time of a single leg is "
                "more than 7 hours.",
                "Book flights at least 14 days in advance when possible; the "
                "average price difference is more than 30 percent.",
                "Rental cars are allowed when public transport is not "
                "practical, in the compact or economy category. Decline the "
                "rental company's insurance; our travel insurance covers it.",
                "Taxis are allowed when public transport is impractical, "
                "with heavy luggage or demo equipment, and always between "
                "22:00 and 6:00.",
            ),
        ]),
        (1, "Hotel limits and daily allowances", [
            "The table shows the maximum hotel price per night and the daily "
            "allowances. A full-day allowance is paid when a trip lasts more "
            "than 10 hours, and a partial-day allowance when it lasts more "
            "than 6 hours and the destination is more than 15 km from both "
            "your home and the office. If two free meals are included in a "
            "day, for example at a conference, the allowance is halved.",
            table(
                ["Destination", "Hotel limit per night", "Full-day allowance",
                 "Partial-day allowance"],
                ["Helsinki", "EUR 160", "EUR 51", "EUR 24"],
                ["Other places in Finland", "EUR 130", "EUR 51", "EUR 24"],
                ["Stockholm, Oslo, Copenhagen", "EUR 210", "EUR 66", "EUR 31"],
                ["Germany", "EUR 170", "EUR 62", "EUR 29"],
                ["Other European countries", "EUR 160", "EUR 58", "EUR 27"],
                ["United States", "EUR 260", "EUR 78", "EUR 36"],
                ["Rest of the world", "EUR 200", "EUR 60", "EUR 28"],
            ),
            "During trade fairs, hotel prices can exceed the limit; Finance "
            "approves exceptions in advance if you attach two alternative "
            "offers to the travel request.",
        ]),
        (1, "Using your own car", [
            "Using your own car for business trips is reimbursed at EUR 0.27 "
            "per kilometre, plus EUR 0.04 per kilometre for each colleague "
            "who travels with you. Record the route and the purpose of the "
            "trip in the expense claim. Commuting between home and the office "
            "is not a business trip. Parking fees are reimbursed with a "
            "receipt; parking fines are not.",
        ]),
        (1, "Company card", [
            "Employees who travel at least four times a year get a company "
            "Visa card. The monthly limit is EUR 3,000; Finance can raise it "
            "temporarily for trade fairs. The card is for business expenses "
            "only. If you pay a personal expense by mistake, report it in "
            "the expense tool and it is deducted from your next salary. "
            "Report a lost card immediately to the card issuer and to "
            "finance@quillmate.fi.",
        ]),
        (1, "Claiming expenses", [
            "Submit expense claims in Kuitti, the expense tool in Kompassi, "
            "within 30 days of the end of the trip or the purchase. Take a "
            "photo of each receipt with the Kuitti mobile app; you do not "
            "need to keep the paper receipt after the photo has been "
            "accepted. Your manager approves the claim, and Finance checks "
            "it. Claims approved by the 5th day of the month are paid with "
            "that month's salary.",
            "Claims submitted more than 90 days after the expense are "
            "reimbursed only with approval from the CFO.",
        ]),
        (2, "What is not reimbursed", [
            bullets(
                "Alcohol, except as part of approved client entertainment.",
                "Hotel minibar, pay-per-view films and laundry on trips "
                "shorter than 5 nights.",
                "Fines, including traffic and parking fines.",
                "Upgrades to a higher travel class paid by the company.",
                "Costs for family members or friends travelling with you.",
            ),
        ]),
        (2, "Client entertainment", [
            "Meals with customers, partners and candidates are reimbursed up "
            "to EUR 90 per person, including drinks. List all attendees and "
            "their companies in the claim. Events above this limit must be "
            "approved by your department head in advance, and hospitality "
            "rules in the Code of Conduct apply.",
        ]),
        (1, "Insurance and emergencies", [
            "All business trips are covered by the company travel insurance, "
            "policy number QM-TRV-88214, which also covers leisure days "
            "added to a business trip of up to 3 days. The insurance card is "
            "in Kompassi under Documents. In a medical emergency abroad, call "
            "the insurer's 24-hour assistance line, +358 20 515 7700, before "
            "you go to a private hospital if you can.",
        ]),
    ],
}


# ---------------------------------------------------------------------------
# IT: New laptop setup runbook (DOCX, with table)
# ---------------------------------------------------------------------------

LAPTOP_SETUP = {
    "path": "it/laptop-setup.docx",
    "title": "New Laptop Setup Runbook",
    "date": when(2024, 10, 14),
    "sections": [
        (1, "About this runbook", [
            "This runbook is for IT staff who prepare laptops for new "
            "employees or replace laptops for existing employees. Runbook "
            "owner: Jussi Paananen, IT Support Specialist. Laptops are "
            "prepared at the Tavi IT service point on the 5th floor, on the "
            "setup bench, which has a wired connection to the setup network "
            "(VLAN 40).",
            "Prepare laptops for new employees at least 2 working days before "
            "the start date. Preparing a Windows laptop takes about 75 "
            "minutes, most of it waiting for updates; a Mac takes about 40 "
            "minutes.",
        ]),
        (1, "Hostnames", [
            "Hostnames are formed from the letters QM, the five digits of the "
            "asset tag and a letter for the operating system: W for Windows, "
            "M for macOS and L for Linux. For example, the Windows laptop "
            "with asset tag QM-04127 is named QM04127W. Never use the user's "
            "name in a hostname, because laptops are reassigned.",
        ]),
        (1, "Windows laptops (ThinkPad T14s)", [
            steps(
                "Check that the asset tag is on the underside of the laptop "
                "and record the serial number and asset tag in the asset "
                "register in QM Desk.",
                "Connect the laptop to the setup bench with the USB-C dock "
                "and power it on.",
                "At the first setup screen, choose Finland as the region and "
                "English (United States) as the language. The keyboard "
                "layout is chosen later by the user.",
                "When asked for an account, sign in with the enrollment "
                "account it-enroll@quillmate.fi. The password is in the IT "
                "vault under \"Enrollment\".",
                "Enrollment applies the company policies, renames the "
                "laptop and installs the standard software. Do not interrupt "
                "the laptop while the progress screen is shown.",
                "Check that BitLocker is on with TPM and PIN, and that the "
                "recovery key appears in the device record in the management "
                "console.",
                "Install all pending Windows updates and restart until no "
                "more updates are offered.",
                "Assign the laptop to the user in QM Desk and put it in the "
                "locked handover cabinet with the user's name on the box.",
            ),
        ]),
        (1, "Mac laptops (MacBook Pro)", [
            "Macs are registered to the company device management service "
            "at purchase, so they enroll automatically when they first "
            "connect to the internet. Power on, choose English and Finland, "
            "connect to the setup network, and wait for the \"Remote "
            "Management\" screen. FileVault is turned on when the user signs "
            "in for the first time, and the recovery key is escrowed "
            "automatically. Check in the management console that the Mac "
            "has the profile \"QM Baseline macOS\" before handover.",
        ]),
        (1, "Linux laptops (ThinkPad P16s)", [
            "Firmware and hardware engineers use Ubuntu 24.04 LTS. Install "
            "from the latest QM Ubuntu image on the USB sticks in the setup "
            "drawer. The image encrypts the disk with LUKS and escrows the "
            "recovery key with the qm-luks-escrow tool. After the first "
            "boot, install the package qm-linux-baseline from the internal "
            "package repository; it installs the endpoint agent, the VPN "
            "client and the certificates. Add the user to the dialout and "
            "plugdev groups so that Pelican debug cables and JTAG adapters "
            "work without root.",
        ]),
        (1, "Standard software", [
            "The following software is installed automatically by "
            "enrollment. Versions are the ones current in October 2024.",
            table(
                ["Software", "Version", "Installed on", "Notes"],
                ["QM Tunnel VPN client", "2.6.1", "All",
                 "Profile downloaded when the user signs in"],
                ["Endpoint protection agent", "Latest", "All",
                 "Must report to the console before handover"],
                ["Microsoft 365 Apps", "Current channel", "Windows, macOS",
                 "Linux users use the web apps"],
                ["Google Chrome", "Latest stable", "All",
                 "Managed browser profile with the company bookmarks"],
                ["Company password manager", "Latest", "All",
                 "User activates the account at handover"],
                ["QM SecurePrint", "3.2", "Windows, macOS",
                 "Adds the QM-SecurePrint queue"],
                ["Pelican Updater", "5.2", "Engineering and Support only",
                 "Requested through the Company Portal"],
            ),
        ]),
        (1, "Handover to the user", [
            "Hand over the laptop in person at the Tavi service point. "
            "During the handover, the user:",
            bullets(
                "signs in and sets the QM ID password,",
                "registers two multi-factor authentication methods,",
                "chooses the keyboard layout,",
                "connects the VPN once from the guest network to confirm "
                "that it works,",
                "prints a test page to QM-SecurePrint and links the access "
                "badge to the print account,",
                "signs the handover in QM Desk.",
            ),
            "Handover takes about 30 minutes. For remote employees, ship the "
            "laptop by courier and do the handover over a video call, with "
            "the temporary password delivered by phone.",
        ]),
        (1, "Returned and replaced laptops", [
            "When a laptop is returned, keep it unchanged for 30 days in "
            "case the user needs files from it. After 30 days, wipe it with "
            "the secure erase function of the firmware, record the wipe in "
            "the asset register and either reassign it or send it to our "
            "recycling partner. Laptops with Restricted data, such as those "
            "of Harbor production engineers, are wiped only after the "
            "Information Security Officer has confirmed that no "
            "investigation is open.",
        ]),
    ],
}


# ---------------------------------------------------------------------------
# Product manual: scanning modes (DOCX, with table)
# ---------------------------------------------------------------------------

PELICAN_SCANNING_MODES = {
    "path": "product/pelican-scanning-modes.docx",
    "title": "Pelican User Manual, Part 3: Scanning Modes",
    "date": when(2024, 9, 10),
    "sections": [
        (1, "Overview of scanning modes", [
            "Pelican scanners can read barcodes, and the P5 and P5X can also "
            "read UHF RFID tags. How and when the scanner reads is set by the "
            "scanning mode. The table shows the available modes; the "
            "sections below describe each mode and its settings. Modes can "
            "be set on the scanner, with configuration barcodes from the "
            "Quick Start Guide, or for a whole fleet in a Harbor "
            "configuration profile.",
            table(
                ["Mode", "Models", "How to turn it on", "Typical use"],
                ["Trigger", "P3, P5, P5X", "Default mode",
                 "Everyday scanning at a counter or shelf"],
                ["Presentation", "P3, P5, P5X",
                 "Automatic when the scanner is in a Nest cradle",
                 "Hands-free scanning at a checkout"],
                ["Continuous", "P3, P5, P5X",
                 "Scan MODE-CONT or set it in Harbor",
                 "Conveyor belts and sorting tables"],
                ["Batch", "P3, P5, P5X",
                 "Scan BATCH-ON, or automatic when out of range",
                 "Stocktaking away from the host"],
                ["Multi-code and pick-list", "P5, P5X",
                 "Settings > Scanning > Multi-code",
                 "Labels with several barcodes"],
                ["RFID inventory", "P5, P5X",
                 "Press the RFID side button", "Counting tagged items"],
                ["RFID locate", "P5, P5X",
                 "Choose a tag and select Locate",
                 "Finding one tagged item"],
            ),
        ]),
        (1, "Trigger mode", [
            "In trigger mode the scanner reads when you press the trigger. "
            "The aiming pattern shows where the scanner is looking: a red "
            "dot on the P3 and a red laser line on the P5 and P5X. After a "
            "successful read, the scanner beeps, the light flashes green "
            "and, on the P5 and P5X, the handle vibrates briefly.",
            "If no code is found within 3 seconds, the scanner stops trying "
            "and plays a low tone. This decode timeout can be set between 1 "
            "and 10 seconds in Harbor. Release the trigger and try again, "
            "closer to or further from the code.",
        ]),
        (1, "Presentation mode", [
            "When a scanner is placed in a Nest cradle, it switches to "
            "presentation mode automatically. The scanner watches for "
            "movement and reads any code held in front of it, so the "
            "cashier can keep both hands free. After 30 seconds without a "
            "code, the illumination dims to save energy and to avoid "
            "dazzling people; it returns at full strength as soon as "
            "something moves in front of the window. Taking the scanner out "
            "of the cradle returns it to trigger mode.",
        ]),
        (1, "Continuous mode", [
            "In continuous mode the scanner reads codes all the time without "
            "the trigger. It is intended for fixed installations such as "
            "conveyor belts, with the scanner mounted in a stand. To avoid "
            "reading the same code many times, a duplicate filter ignores a "
            "code that was read less than 1,500 milliseconds earlier. The "
            "filter time can be set from 0 to 10,000 milliseconds.",
            "Continuous mode uses a lot of energy. Keep the scanner on a "
            "charger, or set the automatic stop, which ends continuous mode "
            "after a chosen time without reads. Scan MODE-TRIG to return to "
            "trigger mode.",
        ]),
        (1, "Batch mode", [
            "In batch mode, scans are stored in the scanner's memory instead "
            "of being sent immediately. Each stored scan gets a timestamp. "
            "The P3 stores up to 10,000 scans and the P5 and P5X up to "
            "50,000 scans. When the host is back in range, or when you scan "
            "BATCH-SEND, the stored scans are sent in the order they were "
            "read.",
            "Batch mode turns on automatically when the connection to the "
            "host is lost, so scans are not lost when a worker walks out of "
            "Bluetooth range. To use batch mode on purpose, for example for "
            "stocktaking in a basement, scan BATCH-ON. To delete all stored "
            "scans without sending them, scan BATCH-CLEAR followed by "
            "CONFIRM.",
        ]),
        (1, "Multi-code and pick-list modes (P5 and P5X)", [
            "Multi-code mode reads up to 12 barcodes in one image, for "
            "example all codes on a shipping label, and sends them in a "
            "fixed order defined in the Harbor profile. Codes that are not "
            "part of the defined set are ignored. Pick-list mode is the "
            "opposite: when several codes are close together, as on a "
            "product catalogue page, it reads only the code in the centre of "
            "the aiming line.",
        ]),
        (1, "RFID inventory mode (P5 and P5X)", [
            "Press the RFID side button to switch to inventory mode; the "
            "status bar shows a tag icon. Hold the trigger and sweep the "
            "scanner slowly along the shelves. The display counts the unique "
            "tags read, and the scanner can read up to 900 tags per second. "
            "Each tag is reported once per inventory round, even if it is "
            "read many times. Release the trigger to end the round; the "
            "list of EPC numbers is sent to the host or to Harbor.",
            "The range is set with three presets under Settings > RFID > "
            "Range: Near uses 18 dBm, Medium 24 dBm and Far 30 dBm. Use Near "
            "in shops with dense shelving, and Far in warehouses.",
        ]),
        (1, "RFID locate mode (P5 and P5X)", [
            "Locate mode helps you find one specific tagged item. Choose the "
            "tag from the last inventory list, or scan a barcode that "
            "contains the EPC number, and select Locate. While you hold the "
            "trigger, the scanner beeps faster and the signal bar grows as "
            "you get closer to the tag, like a metal detector. Locate mode "
            "always uses full transmit power.",
        ]),
        (1, "Data formatting", [
            "By default, the scanner sends the code followed by Enter. In "
            "Harbor you can add a prefix and change the suffix to Tab or "
            "nothing. Advanced formatting rules can remove leading zeros, "
            "add the symbology identifier or split GS1 codes into their "
            "element strings.",
        ]),
        (1, "Symbologies and feedback", [
            "Most common barcode types are enabled by default. For speed and "
            "to avoid misreads, the following types are disabled by default "
            "and must be enabled in Harbor if you need them: Codabar, MSI, "
            "Code 11, Telepen, MaxiCode and Han Xin.",
            "The beep volume can be set to Silent, Low, Medium or High; the "
            "default is Medium. In Silent mode, a successful read is "
            "confirmed only by the green light and, on the P5 and P5X, by "
            "vibration.",
        ]),
    ],
}


# ---------------------------------------------------------------------------
# Product manual: error codes (DOCX, with tables)
# ---------------------------------------------------------------------------

PELICAN_ERROR_CODES = {
    "path": "product/pelican-error-codes.docx",
    "title": "Pelican User Manual, Part 6: Error Codes",
    "date": when(2024, 9, 10),
    "sections": [
        (1, "How errors are shown", [
            "When a Pelican P5 or P5X detects a problem, it shows an error "
            "code on the display, for example E-401, together with a short "
            "description. The code is also reported to Harbor. The P3 has no "
            "display, so it shows errors as a number of red blinks, repeated "
            "every 5 seconds, and reports the full code to Harbor through "
            "its host.",
            "The first digit of the code tells the area of the problem: 1 for "
            "the battery, 2 for the imager, 3 for RFID, 4 for connectivity "
            "and Harbor, 5 for firmware and 6 for storage.",
        ]),
        (2, "P3 blink patterns", [
            table(
                ["Red blinks", "Area", "Codes"],
                ["2 blinks", "Battery", "E-1xx"],
                ["3 blinks", "Imager", "E-2xx"],
                ["4 blinks", "Connectivity and Harbor", "E-4xx"],
                ["5 blinks", "Firmware", "E-5xx"],
                ["6 blinks", "Storage", "E-6xx"],
            ),
            "RFID codes (E-3xx) do not apply to the P3, which has no RFID.",
        ]),
        (1, "Error code reference", [
            table(
                ["Code", "Meaning", "What to do"],
                ["E-101", "Battery temperature outside the charging range.",
                 "Let the scanner reach room temperature; charging resumes "
                 "automatically."],
                ["E-102", "Battery not recognised. The battery failed the "
                 "authentication check, usually because it is not genuine.",
                 "Use a genuine BP-5 or BP-5X battery. Non-genuine batteries "
                 "void the warranty."],
                ["E-103", "Wrong battery type: a BP-5X in a P5 or a BP-5 in "
                 "a P5X.", "Insert the correct battery for the model."],
                ["E-110", "Battery health critical, below 50 percent.",
                 "Replace the battery. The scanner still works but may shut "
                 "down without warning."],
                ["E-201", "The imager failed to start.",
                 "Restart the scanner. If the error returns, request a "
                 "repair."],
                ["E-204", "The imager is too hot. Scanning is paused for 60 "
                 "seconds.", "Move the scanner out of direct sunlight or "
                 "reduce the continuous-mode duty cycle."],
                ["E-210", "Aiming laser fault. Scanning works but the aiming "
                 "line is off.", "Request a repair; aim by moving the code "
                 "to the centre of the window."],
                ["E-301", "RFID antenna fault.", "Restart. If the error "
                 "returns, request a repair."],
                ["E-305", "RFID region mismatch: the Harbor profile or the "
                 "country setting does not match the hardware variant.",
                 "Check the region in the profile. An EU scanner cannot be "
                 "used in the US, or the other way round."],
                ["E-307", "RFID module overheated. Transmit power is reduced "
                 "to 20 dBm until it has cooled down.",
                 "Pause long inventory rounds for a few minutes."],
                ["E-401", "Wi-Fi authentication failed.",
                 "Check the password or, for enterprise networks, the "
                 "certificate in the Harbor profile."],
                ["E-402", "Connected to Wi-Fi but no IP address received.",
                 "Ask the network administrator to check the DHCP server "
                 "and the MAC address filter."],
                ["E-405", "Harbor cannot be reached.",
                 "Allow outbound HTTPS to devices.harbor.quillmate.com."],
                ["E-410", "Certificate check failed, usually because the "
                 "scanner clock is wrong.", "Connect to Wi-Fi so that the "
                 "clock is set automatically, then try again."],
                ["E-415", "Enrollment code expired or already used.",
                 "Generate a new enrollment sheet in Harbor."],
                ["E-420", "The scanner has been locked remotely in Harbor.",
                 "Ask your Harbor administrator for the unlock PIN."],
                ["E-501", "Firmware signature check failed. The update file "
                 "is damaged or not from Quillmate.",
                 "Download the update again. Never install firmware from "
                 "other sources."],
                ["E-502", "Firmware update was interrupted. The scanner has "
                 "started in recovery mode.", "Connect the scanner with a "
                 "USB-C cable and run Pelican Updater."],
                ["E-601", "Batch memory full.", "Send the stored scans to "
                 "the host (scan BATCH-SEND) or clear them."],
                ["E-602", "Storage error.", "Export the logs, then do a "
                 "factory reset. If the error returns, request a repair."],
            ),
        ]),
        (1, "When to contact Support", [
            "Contact Quillmate Support if an error remains after the action "
            "in the table, or immediately for E-201, E-210, E-301 and E-602, "
            "which usually mean a hardware fault. Have the serial number, "
            "the firmware version and the error code ready. If you can, "
            "collect a diagnostic log before you call; the log shows the "
            "sequence of events before the error and often saves a repair.",
            "Errors E-102 and E-501 are also reported automatically to "
            "Quillmate's security team when the scanner is enrolled in "
            "Harbor, because they can indicate tampering.",
        ]),
    ],
}


# ---------------------------------------------------------------------------
# Support: Harbor administrator FAQ (DOCX)
# ---------------------------------------------------------------------------

HARBOR_ADMIN_FAQ = {
    "path": "support/harbor-admin-faq.docx",
    "title": "Harbor Administrator FAQ",
    "date": when(2024, 10, 21),
    "sections": [
        (1, "Users and roles", []),
        (2, "Which roles are there?", [
            "Harbor has four roles. A Viewer can see devices, reports and "
            "profiles but change nothing. An Operator can also retire and "
            "locate devices, generate enrollment sheets and request "
            "diagnostics. An Admin can also edit profiles, start firmware "
            "rollouts and manage users. The Owner can do everything an Admin "
            "can and also manage the subscription, single sign-on and the "
            "deletion of the tenant. Each tenant has exactly one Owner.",
        ]),
        (2, "How do I transfer the Owner role?", [
            "Go to Settings > Users, open the user who should become the "
            "new Owner and choose \"Make Owner\". Both the current and the "
            "new Owner receive a confirmation email, and both must confirm "
            "within 48 hours. The previous Owner becomes an Admin.",
        ]),
        (2, "Is multi-factor authentication required?", [
            "For users who sign in with a Harbor password, multi-factor "
            "authentication is required for the Admin and Owner roles and "
            "optional for the others. Administrators can require it for all "
            "users under Settings > Security. When single sign-on is used, "
            "your identity provider's rules apply.",
        ]),
        (1, "Single sign-on and provisioning", []),
        (2, "How do I set up single sign-on?", [
            "Single sign-on is available in Harbor Pro and Enterprise, with "
            "SAML 2.0 or OpenID Connect. Go to Settings > Security > Single "
            "sign-on, choose the protocol and enter the details from your "
            "identity provider. Test the connection with the \"Test sign-in\" "
            "button before you turn on \"Require single sign-on\".",
            "When single sign-on is required, password sign-in is turned off "
            "for everyone except one break-glass account, which must be the "
            "Owner. Keep its credentials in a safe place; it is the only way "
            "in if your identity provider fails.",
        ]),
        (2, "Can users be created automatically?", [
            "Yes, in Harbor Enterprise, with SCIM 2.0. The SCIM endpoint is "
            "https://app.harbor.quillmate.com/scim/v2. Create a SCIM token "
            "under Settings > Security > Provisioning; a token is valid for "
            "12 months. Map groups in your identity provider to Harbor "
            "roles. Users removed in the identity provider lose access to "
            "Harbor within 10 minutes.",
        ]),
        (1, "Tenant settings", []),
        (2, "How many sites can a tenant have?", [
            "Harbor Basic allows up to 5 sites, Harbor Pro up to 200 sites, "
            "and Harbor Enterprise has no limit. Zones within a site are "
            "not limited in any plan.",
        ]),
        (2, "Can I restrict access to our network?", [
            "Harbor Enterprise tenants can limit access to the Harbor web "
            "interface and API to a list of IP address ranges under "
            "Settings > Security > IP allowlist. Up to 50 ranges in CIDR "
            "notation are allowed. The allowlist does not affect scanners, "
            "which must be able to reach Harbor from any network.",
        ]),
        (2, "How long do sessions last?", [
            "By default, users are signed out after 12 hours. The Owner can "
            "set the session length from 1 to 24 hours under Settings > "
            "Security.",
        ]),
        (2, "Where is the audit log?", [
            "Settings > Audit log lists who changed what and when, including "
            "sign-ins, profile changes, rollouts and user changes. Filter by "
            "user, action or date and export the result as CSV. The audit "
            "log is available in Harbor Pro and Enterprise.",
        ]),
        (1, "API tokens", []),
        (2, "How do I create an API token?", [
            "Go to Settings > API tokens and click \"New token\". Give the "
            "token a name, choose its scopes, for example devices:read or "
            "rollouts:write, and optionally limit it to certain sites. A "
            "token can be valid for at most 365 days. The token is shown "
            "only once, so copy it to your secrets store immediately. Harbor "
            "emails the Owner 14 days before a token expires.",
        ]),
        (1, "Moving devices between tenants", []),
        (2, "How do I move scanners to another organisation?", [
            "When scanners are sold or moved to another organisation, the "
            "old tenant releases them and the new tenant claims them. No "
            "factory reset is needed.",
            steps(
                "In the old tenant, select the devices in the device list "
                "and choose \"Release for transfer\". Up to 500 devices can "
                "be released at once.",
                "Harbor shows a release code that starts with RC-. Give it "
                "to the receiving organisation. The code is valid for 7 "
                "days.",
                "In the new tenant, go to Devices > Enroll > \"Claim "
                "released devices\" and enter the code.",
                "The devices receive the new tenant's default profile the "
                "next time they are online.",
            ),
            "Device history, such as battery data and events, stays with the "
            "old tenant and is not transferred.",
        ]),
        (1, "Closing a tenant", []),
        (2, "How do I delete our tenant?", [
            "Only the Owner can delete a tenant, under Settings > "
            "Subscription > Delete tenant. The tenant is first deactivated, "
            "and can be restored by contacting Support during the following "
            "30 days. After that it is deleted permanently together with all "
            "its data. Release your devices first if another organisation "
            "will use them; otherwise they must be factory reset before they "
            "can be enrolled elsewhere.",
        ]),
    ],
}


# ---------------------------------------------------------------------------
# Releases: Harbor API changelog (DOCX, with table)
# ---------------------------------------------------------------------------

HARBOR_API_CHANGELOG = {
    "path": "releases/harbor-api-changelog.docx",
    "title": "Harbor API Changelog",
    "date": when(2024, 12, 3),
    "sections": [
        (1, "About the Harbor API", [
            "The Harbor REST API lets customers and partners integrate Harbor "
            "with warehouse management systems, service desks and reporting "
            "tools. The current version is API v2, with the base URL "
            "https://api.harbor.quillmate.com/v2. Authenticate with an API "
            "token in the Authorization header as a bearer token. Full "
            "reference documentation is at developer.harbor.quillmate.com.",
            "API v2 has been generally available since Harbor 3.2. API v1 "
            "is deprecated and will be switched off on 31 March 2025. Since "
            "Harbor 4.0, every v1 response carries a Sunset header with this "
            "date.",
        ]),
        (1, "Rate limits", [
            "Each API token can make 600 requests per minute. Bulk endpoints, "
            "whose path contains /bulk-, are limited to 60 requests per "
            "minute. Every response contains the header "
            "X-RateLimit-Remaining. When you exceed the limit, the API "
            "answers with status 429 and a Retry-After header giving the "
            "number of seconds to wait.",
        ]),
        (1, "Pagination", [
            "List endpoints use cursor-based pagination. Pass the value of "
            "next_cursor from the previous response as the cursor parameter "
            "to get the next page. The default page size is 100 and the "
            "maximum is 500, set with the limit parameter. Offset-based "
            "pagination with the page parameter was removed in Harbor 4.0.",
        ]),
        (1, "Webhooks", [
            "Harbor can send events to your HTTPS endpoint. Each request is "
            "signed with HMAC-SHA256 using the webhook secret, and the "
            "signature is sent in the X-Harbor-Signature header. Always "
            "verify the signature before trusting the payload. If your "
            "endpoint does not answer with a 2xx status within 10 seconds, "
            "Harbor retries up to 8 times over 24 hours with increasing "
            "delays. A webhook that has failed continuously for 3 days is "
            "disabled, and the tenant Owner is notified by email.",
        ]),
        (1, "Changes by release", [
            table(
                ["Date", "Harbor version", "Type", "Change"],
                ["3 Dec 2024", "4.4", "Added",
                 "POST /v2/devices/bulk-retire retires up to 1,000 devices "
                 "in one request."],
                ["3 Dec 2024", "4.4", "Added",
                 "GET /v2/reports/shifts returns the shift report per site."],
                ["1 Oct 2024", "4.3", "Added",
                 "POST /v2/devices/{id}/lock and /unlock for remote lock."],
                ["1 Oct 2024", "4.3", "Added",
                 "Webhook event device.geofence_exited."],
                ["2 Jul 2024", "4.2", "Added",
                 "Rollouts accept a rings array with up to five rings."],
                ["2 Jul 2024", "4.2", "Added",
                 "Webhook event rollout.ring_completed."],
                ["7 May 2024", "4.1", "Added",
                 "GET /v2/batteries lists batteries with health and cycle "
                 "count."],
                ["7 May 2024", "4.1", "Added",
                 "POST /v2/devices/{id}/sound plays the locating sound."],
                ["12 Mar 2024", "4.0", "Added",
                 "/v2/sites and /v2/zones endpoints."],
                ["12 Mar 2024", "4.0", "Removed",
                 "/v1/locations endpoints. Use /v2/sites instead."],
                ["12 Mar 2024", "4.0", "Changed",
                 "Cursor-based pagination on all list endpoints."],
                ["12 Mar 2024", "4.0", "Changed",
                 "Webhook signatures moved from the X-Harbor-Token header "
                 "to X-Harbor-Signature with HMAC-SHA256."],
            ),
        ]),
        (1, "Migrating from API v1", [
            "Most v1 endpoints have a v2 equivalent with the same name. The "
            "main differences are: identifiers are strings instead of "
            "integers, timestamps are in ISO 8601 format with a time zone, "
            "locations are replaced by sites and zones, and errors are "
            "returned in the problem details format (RFC 9457) with a "
            "machine-readable type field. A migration guide with examples in "
            "Python and C# is available on the developer portal. Partners "
            "who need help can book a free 60-minute migration session with "
            "the API team through harbor-api@quillmate.com.",
        ]),
        (1, "Versioning policy", [
            "Within API v2, we add fields and endpoints without notice, so "
            "clients must ignore fields they do not know. Removing or "
            "renaming anything in v2 is announced at least 6 months in "
            "advance in this changelog and by email to the Owners of tenants "
            "that have used the affected endpoint in the last 90 days.",
        ]),
    ],
}


# ===========================================================================

DOCUMENTS = [
    EMPLOYEE_HANDBOOK,
    TRAVEL_EXPENSES,
    BACKUP_RESTORE,
    LAPTOP_SETUP,
    PELICAN_SCANNING_MODES,
    PELICAN_SPECIFICATIONS,
    PELICAN_ERROR_CODES,
    WARRANTY_REPAIRS,
    HARBOR_ADMIN_FAQ,
    HARBOR_3_RELEASE_NOTES,
    DOCK_AGENT_RELEASE_NOTES,
    HARBOR_API_CHANGELOG,
]


def main() -> None:
    for doc in DOCUMENTS:
        path = SAMPLE_DIR / doc["path"]
        if path.suffix == ".pdf":
            write_pdf(doc, path)
        elif path.suffix == ".docx":
            write_docx(doc, path)
        else:
            raise ValueError(f"unsupported output type: {path}")
        print(f"wrote {path.relative_to(SAMPLE_DIR.parent.parent)}")


if __name__ == "__main__":
    main()
