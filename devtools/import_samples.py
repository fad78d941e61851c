"""Synthetic register files for the import profiles (config/import/samples/) and the
import benchmark. Every person is invented; every file says so.

    python -m devtools.import_samples                 # rewrite the three small samples
    python -m devtools.import_samples --police-rows 100000 --out /tmp/reta.xlsx [--bad 0.01]
"""

from __future__ import annotations

import argparse
import csv
import io
import random
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parent.parent / "config" / "import" / "samples"
NOTICE = (
    "DATOS SINTÉTICOS — personas inventadas para probar la importación; "
    "no corresponden a ninguna persona real. / SYNTHETIC DATA — invented persons."
)

FEMALE = [
    "María",
    "Rosa",
    "Carmen",
    "Luz",
    "Milagros",
    "Yesenia",
    "Flor",
    "Ruth",
    "Kiara",
    "Nayeli",
    "Dayana",
    "Sheyla",
    "Yuliana",
    "Fiorella",
    "Marleny",
    "Gladys",
]
MALE = [
    "José",
    "Luis",
    "Juan",
    "Carlos",
    "Wilber",
    "Edwin",
    "Percy",
    "Jhon",
    "Elvis",
    "Fredy",
    "Nilton",
    "Teófilo",
    "Segundo",
    "Kevin",
]
SURNAMES = [
    "Quispe",
    "Mamani",
    "Huamán",
    "Flores",
    "Condori",
    "Rojas",
    "Chávez",
    "Ccori",
    "Vargas",
    "Ramos",
    "Torres",
    "Apaza",
    "Ticona",
    "Yupanqui",
    "Sánchez",
    "De la Cruz",
    "Castillo",
    "Pérez",
    "Inga",
    "Huanca",
    "Villca",
    "Machaca",
    "Ortiz",
    "Gutiérrez",
]
VE_SURNAMES = ["González", "Rodríguez", "Hernández", "Pérez", "Briceño", "Colmenares"]
REGIONS = [
    "Lima Metropolitana",
    "Cusco",
    "Puno",
    "Madre de Dios",
    "Loreto",
    "Arequipa",
    "Piura",
    "Tumbes",
    "Junín",
    "Ucayali",
    "La Libertad",
    "Lambayeque",
]
PURPOSES = [
    ("Explotación sexual", 55),
    ("Explotación laboral", 30),
    ("Trabajo forzoso", 5),
    ("Mendicidad", 4),
    ("Servidumbre", 4),
    ("Venta de niños", 2),
]
ACTS = ["Captación", "Transporte", "Traslado", "Acogida", "Recepción", "Retención"]
MEANS = ["Engaño", "Violencia", "Amenaza", "Abuso de situación de vulnerabilidad", "Fraude"]

POLICE_HEADER = [
    "N° Registro",
    "Fecha de registro",
    "Departamento",
    "Nombres",
    "Apellidos",
    "Sexo",
    "Edad",
    "Fecha de nacimiento",
    "Nacionalidad",
    "Tipo de documento",
    "N° documento",
    "Conducta",
    "Medio",
    "Finalidad",
    "Lugar de explotación",
]


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def police_rows(
    n: int, seed: int = 17, bad: float = 0.0, *, wide_names: bool = False
) -> Iterator[list[Any]]:
    """Rows of a police register (the police-register profile's columns); ``bad`` is the
    share of rows given one mistake (unknown code, future date, bad age, missing id).
    ``wide_names``: names from devtools/synth's pools (Zipf-weighted frequent Peruvian and
    Venezuelan names plus an invented long tail) instead of the few names above, so that a
    large file has as many different people as a real register would."""
    rng = random.Random(seed)  # noqa: S311 (synthetic data, not secrets)
    pools = None
    if wide_names:
        from devtools.synth.names import name_pools

        pools = name_pools()
    start = date(2017, 1, 1)
    span = (date(2025, 12, 31) - start).days
    for i in range(1, n + 1):
        female = rng.random() < 0.8
        venezuelan = rng.random() < 0.15
        if pools is not None:
            pool = pools["VE" if venezuelan else "PE"]
            given = pool.given(rng, female)
            if rng.random() < 0.3:
                given += " " + pool.given(rng, female)
            family = f"{pool.surname(rng)} {pool.surname(rng)}"
        else:
            given = rng.choice(FEMALE if female else MALE)
            if rng.random() < 0.3:
                given += " " + rng.choice(FEMALE if female else MALE)
            family = f"{rng.choice(VE_SURNAMES if venezuelan else SURNAMES)} {rng.choice(SURNAMES)}"
        registered = start + timedelta(days=rng.randrange(span))
        age = max(0, min(80, int(rng.gauss(21, 7))))
        with_dob = rng.random() < 0.5
        dob = registered - timedelta(days=age * 365 + rng.randrange(0, 300)) if with_dob else None
        if dob is not None:
            age_cell: Any = None
        else:
            age_cell = age
        doc_type, doc_number = "", ""
        if rng.random() < 0.7:
            if venezuelan:
                doc_type, doc_number = (
                    rng.choice(["PTP", "Pasaporte", "CE"]),
                    str(rng.randrange(10_000_000, 99_999_999)),
                )
            else:
                doc_type, doc_number = "DNI", f"{rng.randrange(10_000_000, 79_999_999)}"
        acts = ";".join(sorted(rng.sample(ACTS, rng.randint(1, 3)), key=ACTS.index))
        means = ";".join(rng.sample(MEANS, rng.randint(0, 2)))
        row = [
            f"RETA-{registered.year}-{i:07d}",
            registered,
            rng.choice(REGIONS),
            given,
            family,
            "Femenino" if female else "Masculino",
            age_cell,
            dob,
            "Venezuela" if venezuelan else "Perú",
            doc_type,
            doc_number,
            acts,
            means,
            _pick(rng, PURPOSES),
            rng.choice(REGIONS),
        ]
        if bad and rng.random() < bad:
            mistake = rng.randrange(4)
            if mistake == 0:
                row[13] = "Explotación minera ilegal"  # unknown code
            elif mistake == 1:
                row[1] = date.today() + timedelta(days=30)  # in the future
            elif mistake == 2:
                row[6], row[7] = "veintidós", None  # not a number
            else:
                row[0] = None  # no source id
        yield row


def write_police_xlsx(
    path: Path, n: int, seed: int = 17, bad: float = 0.0, *, wide_names: bool = False
) -> None:
    """A police-register workbook, written streaming (write-only) so 100,000 rows fit."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Victimas")
    sheet.append(POLICE_HEADER)
    for row in police_rows(n, seed, bad, wide_names=wide_names):
        sheet.append(row)
    notice = book.create_sheet("LEAME")
    notice.append([NOTICE])
    book.save(path)
    _declare_dimension(path, f"A1:{chr(ord('A') + len(POLICE_HEADER) - 1)}{n + 1}")


def _declare_dimension(path: Path, ref: str) -> None:
    """Write the sheet's ``<dimension>`` as Excel and LibreOffice do (openpyxl's write-only
    mode leaves it out, and a reader then has to scan the sheet to learn its size)."""
    import shutil
    import zipfile

    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml" and b"<dimension" not in data:
                marker = next(
                    m for m in (b"<sheetViews", b"<sheetFormatPr", b"<sheetData") if m in data
                )
                data = data.replace(marker, f'<dimension ref="{ref}"/>'.encode() + marker, 1)
            dst.writestr(item, data)
    shutil.move(tmp, path)


def write_prosecutor_xlsx(path: Path, n: int = 12, seed: int = 29) -> None:
    from openpyxl import Workbook

    rng = random.Random(seed)  # noqa: S311 (synthetic data, not secrets)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("SISTRA")
    sheet.append([NOTICE])  # the title line above the header (header_row = 2)
    sheet.append(
        [
            "ID agraviado",
            "Fecha de denuncia",
            "Distrito fiscal (departamento)",
            "Nombres del agraviado",
            "Apellidos del agraviado",
            "Sexo",
            "Fecha de nacimiento",
            "Edad",
            "País de nacionalidad",
            "DNI",
            "Conducta típica",
            "Medios",
            "Fin de explotación",
            "Relación con el tratante",
            "Organización criminal",
        ]
    )
    for i in range(1, n + 1):
        female = rng.random() < 0.75
        reported = date(2018, 1, 1) + timedelta(days=rng.randrange(2500))
        age = rng.randint(13, 35)
        sheet.append(
            [
                f"SIS-{reported.year}-{i:05d}",
                reported.isoformat(),
                rng.choice(REGIONS),
                rng.choice(FEMALE if female else MALE),
                f"{rng.choice(SURNAMES)} {rng.choice(SURNAMES)}",
                "F" if female else "M",
                None,
                age,
                "Perú",
                str(rng.randrange(10_000_000, 79_999_999)) if rng.random() < 0.8 else None,
                rng.choice(["Captación", "Traslado", "Acogida"]),
                ", ".join(rng.sample(["Engaño", "Violencia", "Amenaza"], rng.randint(1, 2))),
                rng.choice(["Explotación sexual", "Explotación laboral", "Mendicidad"]),
                rng.choice(["Desconocido", "Familiar", "Empleador o agente", None]),
                rng.choice(["Sí", "No", None]),
            ]
        )
    book.save(path)


def ngo_csv(n: int = 12, seed: int = 41) -> str:
    rng = random.Random(seed)  # noqa: S311 (synthetic data, not secrets)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(
        [
            "codigo",
            "fecha_atencion",
            "region",
            "nombres",
            "apellidos",
            "sexo",
            "edad",
            "edad_estimada",
            "nacionalidad",
            "idiomas",
            "tipo_documento",
            "numero_documento",
            "medios",
            "forma_explotacion",
            "sector",
            "necesidades",
        ]
    )
    for i in range(1, n + 1):
        female = rng.random() < 0.7
        seen = date(2019, 1, 1) + timedelta(days=rng.randrange(2200))
        foreign = rng.random() < 0.3
        doc_type = "" if rng.random() < 0.4 else ("ptp" if foreign else "dni")
        writer.writerow(
            [
                f"ONG-{i:04d}",
                seen.strftime("%d/%m/%Y"),
                rng.choice(REGIONS),
                rng.choice(FEMALE if female else MALE),
                f"{rng.choice(VE_SURNAMES if foreign else SURNAMES)} {rng.choice(SURNAMES)}",
                "mujer" if female else "hombre",
                rng.randint(14, 40),
                rng.choice(["sí", "no"]),
                "Venezuela" if foreign else "Perú",
                "es" if foreign else rng.choice(["es", "es;qu", "es;ay"]),
                doc_type,
                str(rng.randrange(10_000_000, 79_999_999)) if doc_type else "",
                rng.choice(["Engaño", "Engaño;Abuso de situación de vulnerabilidad", "Violencia"]),
                rng.choice(
                    ["explotación sexual", "explotación laboral", "trabajo doméstico forzado"]
                ),
                rng.choice(["Minería", "Bares y hospedajes", "Trabajo doméstico", ""]),
                rng.choice(["Albergue;Salud", "Apoyo psicológico", ""]),
            ]
        )
    return out.getvalue()


def write_samples(directory: Path = SAMPLES) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    police = directory / "police-register.SYNTHETIC.xlsx"
    write_police_xlsx(police, 15)
    prosecutor = directory / "prosecutor-register.SYNTHETIC.xlsx"
    write_prosecutor_xlsx(prosecutor)
    ngo = directory / "ngo-spreadsheet.SYNTHETIC.csv"
    ngo.write_text(ngo_csv(), encoding="utf-8")
    return [police, prosecutor, ngo]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--police-rows", type=int)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--bad", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--wide-names", action="store_true", help="synth's name pools")
    args = parser.parse_args()
    if args.police_rows:
        out = args.out or Path(f"police-{args.police_rows}.xlsx")
        write_police_xlsx(out, args.police_rows, args.seed, args.bad, wide_names=args.wide_names)
        print(out)
        return
    for path in write_samples():
        print(path)


if __name__ == "__main__":
    main()
