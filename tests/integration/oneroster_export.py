"""Builds OneRoster CSV exports for the tests and the benchmark, from the 1EdTech OneRoster
1.1 and 1.2 CSV binding: the files, their column names and order, the required fields, the
manifest's file.* and source.* rows, status and dateLastModified in delta files.

Every value here is made up; nothing is taken from a vendor's export.
"""
import csv
import io
import zipfile

# Column names and order of the CSV binding: the files 1.1 and 1.2 share, then users.csv,
# which differs (1.2 moved the role and org columns out and added the preferred names).
_SHARED = {
    "academicSessions.csv": ["sourcedId", "status", "dateLastModified", "title", "type",
                             "startDate", "endDate", "parentSourcedId", "schoolYear"],
    "classes.csv": ["sourcedId", "status", "dateLastModified", "title", "grades",
                    "courseSourcedId", "classCode", "classType", "location", "schoolSourcedId",
                    "termSourcedIds", "subjects", "subjectCodes", "periods"],
    "courses.csv": ["sourcedId", "status", "dateLastModified", "schoolYearSourcedId", "title",
                    "courseCode", "grades", "orgSourcedId", "subjects", "subjectCodes"],
    "enrollments.csv": ["sourcedId", "status", "dateLastModified", "classSourcedId",
                        "schoolSourcedId", "userSourcedId", "role", "primary", "beginDate",
                        "endDate"],
}
COLUMNS = {
    "1.1": dict(_SHARED, **{"users.csv": [
        "sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds", "role",
        "username", "userIds", "givenName", "familyName", "middleName", "identifier", "email",
        "sms", "phone", "agentSourcedIds", "grades", "password"]}),
    "1.2": dict(_SHARED, **{"users.csv": [
        "sourcedId", "status", "dateLastModified", "enabledUser", "username", "userIds",
        "givenName", "familyName", "middleName", "identifier", "email", "sms", "phone",
        "agentSourcedIds", "grades", "password", "userMasterIdentifier", "resourceSourcedIds",
        "preferredGivenName", "preferredMiddleName", "preferredFamilyName",
        "primaryOrgSourcedId", "pronouns", "metadata.district.house"]}),
}

FILES = ["academicSessions", "categories", "classes", "classResources", "courses",
         "courseResources", "demographics", "enrollments", "lineItems", "orgs", "resources",
         "results", "users"]


def rows_to_csv(columns, rows, crlf=True, bom=False):
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n" if crlf else "\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([r.get(c, "") for c in columns])
    text = out.getvalue()
    return ("\ufeff" + text if bom else text).encode()


def manifest(version, modes, system="Test SIS"):
    rows = [("manifest.version", "1.0"), ("oneroster.version", version)]
    for f in FILES:
        rows.append((f"file.{f}", modes.get(f, "absent")))
    rows += [("source.systemName", system), ("source.systemCode", "tsis")]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["propertyName", "value"])
    w.writerows(rows)
    return out.getvalue().encode()


class Export:
    """Rows per file; to_zip() writes them with the version's columns."""

    def __init__(self, version="1.2"):
        self.version = version
        self.rows = {"academicSessions.csv": [], "classes.csv": [], "courses.csv": [],
                     "enrollments.csv": [], "users.csv": []}
        self.modes = {}

    def term(self, sid, year, title=None):
        self.rows["academicSessions.csv"].append(
            {"sourcedId": sid, "title": title or f"Term {sid}", "type": "term",
             "startDate": f"{year - 1}-08-15", "endDate": f"{year}-06-30", "schoolYear": str(year)})

    def course(self, sid, title):
        self.rows["courses.csv"].append({"sourcedId": sid, "title": title, "orgSourcedId": "sch-1"})

    def klass(self, sid, title, course="", terms="t-1", school="sch-1", class_type="scheduled", **kw):
        r = {"sourcedId": sid, "title": title, "courseSourcedId": course, "classType": class_type,
             "schoolSourcedId": school, "termSourcedIds": terms}
        r.update(kw)
        self.rows["classes.csv"].append(r)

    def user(self, sid, given, family, email="", enabled="true", role="student", **kw):
        r = {"sourcedId": sid, "enabledUser": enabled, "givenName": given, "familyName": family,
             "email": email, "username": sid, "orgSourcedIds": "sch-1", "role": role,
             "primaryOrgSourcedId": "sch-1"}
        r.update(kw)
        self.rows["users.csv"].append(r)

    def enroll(self, sid, klass, user, role="student", school="sch-1", **kw):
        r = {"sourcedId": sid, "classSourcedId": klass, "userSourcedId": user, "role": role,
             "schoolSourcedId": school}
        r.update(kw)
        self.rows["enrollments.csv"].append(r)

    def files(self, with_manifest=True):
        cols = COLUMNS[self.version]
        out = {}
        for name, rows in self.rows.items():
            mode = self.modes.get(name[:-4], "bulk" if rows else "absent")
            if mode == "absent":
                continue
            out[name] = rows_to_csv(cols[name], rows)
        if with_manifest:
            modes = {n[:-4]: self.modes.get(n[:-4], "bulk") for n in out}
            out["manifest.csv"] = manifest(self.version, modes)
        return out

    def to_zip(self, folder="", with_manifest=True, extra=None):
        return make_zip({**self.files(with_manifest), **(extra or {})}, folder)


def make_zip(files, folder=""):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(folder + name, data)
    return buf.getvalue()


def small_export(version="1.2"):
    """Two classes of one course in one term, four students and a teacher."""
    x = Export(version)
    x.term("t-1", 2026)
    x.course("c-1", "Mathematics")
    x.klass("cls-1", "Maths 1A", course="c-1")
    x.klass("cls-2", "Maths 1B", course="c-1", class_type="Homeroom")
    x.user("u-1", "Ada", "Lovelace", "ada@example.org")
    x.user("u-2", "Alan", "Turing", "alan@example.org")
    x.user("u-3", "Grace", "Hopper", "grace@example.org")
    x.user("u-4", "Edsger", "Dijkstra", "edsger@example.org")
    x.user("u-9", "Tim", "Teacher", "tim@example.org", role="teacher")
    x.enroll("e-1", "cls-1", "u-1")
    x.enroll("e-2", "cls-1", "u-2")
    x.enroll("e-3", "cls-2", "u-3")
    x.enroll("e-4", "cls-2", "u-4")
    x.enroll("e-5", "cls-1", "u-9", role="teacher")
    return x
