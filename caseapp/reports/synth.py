"""Synthetic persons and screenings for demos, benchmarks and linkage quality (api.md §1).

``generate`` invents ``persons`` trafficking victims and the screenings that several
organizations of the seeded directory would record about each of them, with the record
noise real registers have (typos, dropped accents, surnames first, a missing document,
an age instead of a date of birth…), and stores them as real rows: ``cases``,
``persons`` (AES-GCM encrypted exactly as ``EncryptedText`` does), ``screenings`` (the
decision of ``screening.rules.determine``/``profile``) and ``screening_facts`` with
their purposes (the values of ``facts.services.record``). Then ``facts.relink_all``
computes the unduplicated persons in one pass, and the true person of every screening,
kept in memory only, measures the linkage (``pairwise_quality``).

Synthetic screenings skip referral planning, for speed: the statistics do not read
referrals, so there are no referrals, gaps or referral alerts (``consent_missing``…) for
them. One audit event records the run, not one per row. Rows are built in forked worker
processes for large runs and written in batches (COPY on PostgreSQL). Distributions,
noise model and measurements: docs/decisions/0006-synthetic-data-and-linkage-quality.md.
The same seed gives the same persons and screenings (uuids, database ids and ciphertext
nonces aside); the linkage result also depends slightly on the index key, which places
the Bloom-filter bits.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import json
import multiprocessing
import os
import random
import time
import unicodedata
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Generic, NamedTuple, TypeVar, cast

import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel

from caseapp.accounts.models import Organization
from caseapp.audit import services as audit
from caseapp.core.codes import STRONG_INDICATORS
from caseapp.core.crypto import FORMAT_VERSION, NONCE_BYTES, Keyring
from caseapp.core.db import EncryptedText, keyring
from caseapp.core.time import LIMA
from caseapp.extensions import db
from caseapp.facts import fuzzy, linkage
from caseapp.facts import services as report_facts
from caseapp.facts.models import ScreeningFact, ScreeningFactPurpose
from caseapp.screening import rules
from caseapp.screening import services as screening_services
from caseapp.screening.models import Case, Person, Screening
from caseapp.screening.schema import ContextInput, DocumentInput, PersonInput, ScreeningInput

T = TypeVar("T")

#: identification dates are spread over this window (fixed, so a seed is reproducible)
FIRST_DAY = date(2023, 1, 1)
LAST_DAY = date(2026, 10, 31)
BATCH_PERSONS = 5_000
"""Persons generated and written per batch (about 7,500 screenings, 40,000 rows)."""


def seeded(material: str) -> random.Random:
    """A reproducible generator for synthetic data (never for anything secret)."""
    return random.Random(material)  # noqa: S311


class Weighted(Generic[T]):
    """A weighted choice with precomputed cumulative weights (``rng.choices`` redoes them)."""

    __slots__ = ("cum", "total", "values")

    def __init__(self, weights: Mapping[T, float] | Iterable[tuple[T, float]]) -> None:
        pairs = list(weights.items() if isinstance(weights, Mapping) else weights)
        pairs = [(v, w) for v, w in pairs if w > 0]
        if not pairs:
            raise ValueError("a weighted choice needs at least one positive weight")
        self.values = [v for v, _ in pairs]
        self.cum = list(itertools.accumulate(w for _, w in pairs))
        self.total = self.cum[-1]

    def __call__(self, rng: random.Random) -> T:
        return self.values[bisect.bisect(self.cum, rng.random() * self.total)]


def _zipf(names: str, exponent: float = 0.75, offset: float = 3.0) -> Weighted[str]:
    """Names listed from most to least frequent, weighted 1/(rank+offset)^exponent."""
    items = list(dict.fromkeys(n.strip() for n in names.split(",") if n.strip()))
    return Weighted((n, 1.0 / (rank + offset) ** exponent) for rank, n in enumerate(items))


# --- Names ----------------------------------------------------------------------------
# Frequent Peruvian given names and surnames (RENIEC frequency lists and registers give
# the flavour; the order is roughly by frequency). Surnames include Quechua, Aymara and
# Amazonian ones and particles ("De la Cruz") that normalization must handle.

PE_FEMALE = _zipf(
    "María, Rosa, Carmen, Ana, Luz, Juana, Milagros, Flor, Yesenia, Lucía, Elizabeth, Sonia,"
    " Gladys, Diana, Jessica, Maribel, Marleny, Yolanda, Ruth, Roxana, Patricia, Katherine,"
    " Silvia, Lourdes, Marisol, Evelyn, Fiorella, Karina, Vanessa, Estefany, Nayeli, Dayana,"
    " Sheyla, Mayra, Yuliana, Cinthia, Sandra, Beatriz, Margarita, Teresa, Julia, Delia,"
    " Isabel, Mercedes, Gabriela, Fabiola, Ximena, Valeria, Camila, Angie, Kiara, Alexandra,"
    " Brenda, Leydi, Nataly, Rocío, Verónica, Zulema, Hilda, Nora, Olga, Pilar, Raquel,"
    " Susana, Tania, Vilma, Wendy, Yanet, Yessica, Zoila, Dina, Edith, Fanny, Graciela,"
    " Haydée, Irma, Jackeline, Lizbeth, Maritza, Noemí, Paola, Rosario, Sofía, Yovana,"
    " Antonia, Celia, Francisca, Justina, Lidia, Martha, Paulina, Rebeca, Soledad, Victoria,"
    " Agustina, Clorinda, Eusebia, Felícita, Hermelinda, Isidora, Marcelina, Natividad,"
    " Saturnina, Teodora, Valentina, Yeni, Rosmery, Sayuri, Naomi, Abigail, Fernanda, Luana,"
    " Danna, Mía, Ángela, Mónica, Nélida, Eva, Inés, Amparo, Miriam, Betty, Elva, Aurora,"
    " Benedicta, Cristina, Débora, Emperatriz, Esther, Flora, Gregoria, Herminia, Jesusa,"
    " Leonor, Luzmila, Magaly, Marina, Melissa, Nancy, Norma, Pamela, Rosalía, Sabina,"
    " Shirley, Tatiana, Ursula, Violeta, Yaneth, Yeny, Zenaida, Aydée, Brígida, Candelaria,"
    " Dominga, Eulalia, Florencia, Gumercinda, Huberta, Ignacia, Jacinta, Lucila, Maura"
)
PE_MALE = _zipf(
    "José, Luis, Juan, Carlos, Jorge, Miguel, Víctor, Pedro, César, Manuel, Julio, Raúl,"
    " Wilber, Edwin, Elvis, Jhon, Percy, Walter, Wilson, Alex, Richard, Roger, Ronald, Fredy,"
    " Hugo, Javier, Martín, Alberto, Ángel, Antonio, Daniel, David, Eduardo, Fernando,"
    " Francisco, Gustavo, Henry, Iván, Jaime, Jesús, Jhonatan, Kevin, Marco, Mario, Nilton,"
    " Óscar, Pablo, Rafael, Ricardo, Roberto, Rubén, Santiago, Segundo, Sergio, Teófilo,"
    " Ulises, Vidal, Yony, Alexis, Anthony, Brayan, Diego, Erick, Gerson, Jefferson, Josué,"
    " Junior, Leonardo, Piero, Renzo, Sebastián, Jhordan, Nicolás, Mateo, Gabriel, Adrián,"
    " Emerson, Franklin, Hernán, Isaac, Lucio, Néstor, Orlando, Rolando, Silvio, Tito, Zenón,"
    " Cirilo, Eusebio, Faustino, Hilario, Leoncio, Justo, Saturnino, Valentín, Yordy, Efraín,"
    " Abel, Elías, Germán, Héctor, Ismael, Joel, Moisés, Samuel, Saúl, Simón, Tomás, Agustín,"
    " Amador, Benito, Celestino, Demetrio, Dionisio, Edilberto, Eleuterio, Fidel, Gregorio,"
    " Hipólito, Isidro, Jacinto, Lorenzo, Marcelino, Nazario, Octavio, Pascual, Quintín,"
    " Reynaldo, Severino, Timoteo, Urbano, Wilfredo, Alcides, Bryan, Cristhian, Dennis,"
    " Edson, Frank, Giovanni, Harold, Jhampier, Luis Miguel, Yerson, Maycol, Waldir"
)
PE_SURNAMES = _zipf(
    "Quispe, Flores, Sánchez, Rodríguez, García, Rojas, Huamán, Mamani, Chávez, Ramírez,"
    " Ramos, Torres, Díaz, Vásquez, Castillo, Mendoza, Gutiérrez, Condori, Pérez, López,"
    " González, Espinoza, Cruz, Romero, Vargas, Morales, Ortiz, Silva, Salazar, Herrera,"
    " Medina, Aguilar, Castro, Ruiz, Cárdenas, Córdova, Paredes, Alvarado, Huamaní, Apaza,"
    " Choque, Ticona, Huanca, Ccama, Yupanqui, Poma, Cusi, Cahuana, Layme, Calla, Pari,"
    " Huillca, Taipe, Chambi, Ccori, Palomino, Zapata, Reyes, Jiménez, Fernández, Martínez,"
    " Hernández, Álvarez, Gómez, Muñoz, Rivera, Navarro, Tello, Cabrera, Aguirre, Valdivia,"
    " Benites, Cotrina, Saavedra, Guevara, Campos, Acosta, Peña, Soto, Vega, Carrasco,"
    " Delgado, Lozano, Requejo, Bustamante, Villanueva, Arias, Pinedo, Tapullima, Sangama,"
    " Ahuanari, Shapiama, Tananta, Pizango, Amasifuén, Cachique, Macedo, Lazo, Inga, Sullca,"
    " Ccahuana, Llamoca, Ayala, Canales, Chumpitaz, De la Cruz, Del Castillo, De los Santos,"
    " Santa Cruz, San Martín, Quiroz, Ñahui, Ñaupari, Núñez, Solís, Barrientos, Ochoa, Yauri,"
    " Anccasi, Puma, Cjuno, Ttito, Huallpa, Challco, Sutta, Mayta, Cutipa, Limachi,"
    " Pacompia, Velásquez, Loayza, Arévalo, Bautista, Cano, Carhuancho, Escobar, Gallegos,"
    " Guerrero, Gamarra, Huaranga, Jara, León, Llanos, Meza, Montes, Nina, Oré, Prado,"
    " Quintana, Rivas, Sulca, Tupa, Ugarte, Valencia, Yucra, Zegarra, Atoccsa, Ccanto,"
    " Alarcón, Baca, Caballero, Chuquimia, Cóndor, Curo, Enríquez, Farfán, Galindo, Huaycho,"
    " Illanes, Janampa, Kana, Lima, Manrique, Neyra, Olivera, Pacheco, Quicaño, Rímac,"
    " Salas, Tarqui, Urquizo, Vilca, Yanqui, Zúñiga, Aroni, Berrocal, Cuadros, Dueñas,"
    " Echevarría, Figueroa, Gonzales, Huarcaya, Iturri, Jáuregui, Laura, Mallma, Nolasco,"
    " Orosco, Porras, Quiñones, Roque, Sotelo, Tinoco, Uceda, Villca, Yepez, Zevallos,"
    " Achahui, Bellido, Coaquira, Charca, Choquehuanca, Flores de la Cruz, Gutiérrez del"
    " Valle, Huacho, Incacutipa, Jallo, Llerena, Mercado, Nuñonca, Otazú, Pauccar, Quille"
)
VE_FEMALE = _zipf(
    "María José, María Alejandra, Yulimar, Génesis, Andreína, Oriana, Dayana, Yeimy,"
    " Nathaly, Daniela, Mariangel, Luisana, Yorgelis, Karelys, Yoselin, Gabriela, Valentina,"
    " Stefany, Yusmary, Maryelis, Rosangela, Yeraldine, Francelys, Josmary, Carolina,"
    " Estefanía, Yuliana, Johana, Paola, Mishel, Doménica, Jessenia, Wara, Mery, Ana Karina,"
    " Yenifer, Marbelys, Yaneidy, Nohelia, Leidy, Keila, Yaritza, Milagros, Roxana, Dariana,"
    " Eilyn, Yorbelis, Greisy, Rosmary, Anyelis, Betzabeth, Damaris, Emily, Fabiana, Geraldine,"
    " Isamar, Jhoselyn, Katiuska, Lisbeth, Maryori, Neyla, Oriana Valentina, Pierina,"
    " Sorángel, Thais, Vanessa, Xiomara, Yelitza, Zuleima, Ana Lucía, Wendy, Angélica, Luz"
    " Marina, Adriana, Camila, Sofía, Lorena, Marisela, Norelys, Omaira"
)
VE_MALE = _zipf(
    "José Gregorio, Carlos, Luis, Jesús, Yonaiker, Kleiber, Jhonny, Yorman, Wilmer,"
    " Endrick, José Ángel, Miguel, Andrés, Anderson, Jhoan, Deivis, Leonardo, Eduardo,"
    " Brayan, Juan Carlos, Cristian, Alexander, Franklin, Jonathan, Ángel, Deiby, Edgar,"
    " Freddy, Gustavo, Héctor, Jairo, Jesús Alberto, Leonel, Maikel, Neomar, Omar, Pedro,"
    " Ramón, Richard, Samuel, Victor, Wilson, Yeferson, Yohan, Elvis, Darwin, Henry, José Luis"
)
VE_SURNAMES = _zipf(
    "González, Rodríguez, Pérez, Hernández, García, Martínez, López, Díaz, Sánchez,"
    " Romero, Rojas, Guerrero, Medina, Contreras, Marcano, Bolívar, Rivas, Mendoza, Silva,"
    " Torres, Blanco, Castillo, Ramírez, Suárez, Morales, Parra, Salazar, Zambrano,"
    " Briceño, Colmenares, Pacheco, Villegas, Acosta, Aponte, Urdaneta, Chirinos, Cardona,"
    " Restrepo, Ospina, Giraldo, Montoya, Quintero, Cevallos, Vera, Moreira, Chiluisa,"
    " Mamani, Choque, Copa, Limachi, Da Silva, Dos Santos, Fernández, Gómez, Flores,"
    " Jiménez, Álvarez, Moreno, Muñoz, Alvarado, Ruiz, Gutiérrez, Castro, Vargas, Ramos,"
    " Ortega, Delgado, Peña, Aguilar, Molina, Cabrera, Linares, Carrillo, Gil, Páez, Mora,"
    " Rangel, Arias, Camacho, Figueroa, Duarte, Bravo, Ortiz, Montilla, Graterol, Matos,"
    " Piña, Sequera, Escalona, Mendez, Lugo, Farías, Yépez, Arteaga, Pineda, Tovar, Quero,"
    " Carvajal, Barrios, Perdomo, Salas, Leal, Gil de León, Velásquez, Uzcátegui, Pérez"
)


def _invented(seed: str, syllables: Sequence[Sequence[str]], size: int) -> Weighted[str]:
    """A long tail of rarer names built from syllables (registers hold thousands of
    surnames; a few hundred listed ones would make strangers share names far too often).
    Flat weights: each tail name is rare. The middle syllable is doubled in a third of the
    names, so there are many more combinations than ``size``."""
    rng = seeded(seed)
    first, middle, last = syllables
    possible = len(set(first)) * len(set(middle)) * len(set(last)) * (1 + len(set(middle)))
    if size > possible // 2:
        raise ValueError(f"only {possible} names from these syllables")
    names: dict[str, None] = {}
    while len(names) < size:
        parts = [rng.choice(first), rng.choice(middle)]
        if rng.random() < 0.33:
            parts.append(rng.choice(middle))
        parts.append(rng.choice(last))
        names["".join(parts).capitalize()] = None
    return Weighted((n, 1.0) for n in names)


_ANDEAN_SYLLABLES = (
    (
        "hua",
        "cca",
        "qui",
        "ccu",
        "chu",
        "ta",
        "pa",
        "ya",
        "ma",
        "ha",
        "lla",
        "ti",
        "cu",
        "sa",
        "cha",
        "ña",
        "ccha",
        "tu",
        "ccol",
        "yu",
        "ca",
        "pu",
        "ri",
        "a",
        "i",
        "u",
    ),
    (
        "ma",
        "ra",
        "lla",
        "cca",
        "ta",
        "ya",
        "hua",
        "qui",
        "pa",
        "ri",
        "ni",
        "ccha",
        "sca",
        "nca",
        "yna",
        "hui",
        "rpa",
        "ycu",
        "mpa",
        "ncho",
    ),
    (
        "ni",
        "ri",
        "pa",
        "yo",
        "ta",
        "na",
        "ma",
        "sca",
        "nco",
        "y",
        "n",
        "co",
        "la",
        "cho",
        "ya",
        "re",
        "ña",
        "pe",
    ),
)
_SPANISH_SYLLABLES = (
    (
        "Ber",
        "Val",
        "Car",
        "San",
        "Que",
        "Al",
        "Ar",
        "Bel",
        "Cor",
        "Es",
        "Fer",
        "Gal",
        "Hi",
        "Lo",
        "Mar",
        "Mon",
        "Or",
        "Pal",
        "Ro",
        "Ser",
        "Tor",
        "Vi",
        "Zam",
        "Ba",
        "Ca",
        "Re",
    ),
    (
        "mu",
        "len",
        "ra",
        "do",
        "ve",
        "ca",
        "ta",
        "ri",
        "la",
        "gue",
        "mi",
        "bo",
        "so",
        "ne",
        "li",
        "ce",
    ),
    (
        "dez",
        "zuela",
        "zo",
        "val",
        "ro",
        "nes",
        "lla",
        "ño",
        "rez",
        "tes",
        "das",
        "go",
        "ja",
        "sco",
        "gas",
        "nte",
    ),
)
_GIVEN_SYLLABLES = {
    "F": (
        (
            "Yu",
            "Ya",
            "Ye",
            "Dai",
            "Ma",
            "Lu",
            "Ro",
            "Ka",
            "Ni",
            "Sha",
            "Mi",
            "Ke",
            "Da",
            "Li",
            "Ja",
            "Na",
            "Zu",
            "Ai",
            "Mel",
        ),
        ("li", "ri", "se", "ne", "la", "mi", "ye", "ta", "ra", "de", "ni", "sa", "lei"),
        ("mar", "ly", "nia", "dy", "sol", "dith", "la", "nsy", "ra", "beth", "na", "ely"),
    ),
    "M": (
        (
            "Jho",
            "Yo",
            "Ke",
            "Bra",
            "Dei",
            "Ed",
            "Wil",
            "Fre",
            "Ger",
            "Ro",
            "Al",
            "Er",
            "Jai",
            "Le",
            "Ma",
            "Ne",
            "Ri",
            "Ya",
        ),
        ("n", "r", "l", "d", "m", "nd", "lb", "rl"),
        ("der", "son", "an", "y", "er", "ino", "ito", "el", "on", "iel", "al", "es"),
    ),
}


class NamePool:
    """Listed (frequent) names plus an invented long tail."""

    def __init__(
        self,
        listed: Mapping[str, Weighted[str]],
        tail: Mapping[str, Weighted[str]],
        tail_given: float,
        tail_surname: float,
    ) -> None:
        self.listed, self.tail = listed, tail
        self.tail_given, self.tail_surname = tail_given, tail_surname

    def __getitem__(self, key: str) -> Weighted[str]:
        return self.listed[key]

    def given(self, rng: random.Random, female: bool) -> str:
        key = "F" if female else "M"
        pool = self.tail if rng.random() < self.tail_given else self.listed
        return pool[key](rng)

    def surname(self, rng: random.Random) -> str:
        pool = self.tail if rng.random() < self.tail_surname else self.listed
        return pool["S"](rng)


@functools.cache
def name_pools() -> dict[str, NamePool]:
    """Built on first use (inventing the tails takes a moment)."""
    given_tail = {k: _invented(f"given-{k}", v, 2_000) for k, v in _GIVEN_SYLLABLES.items()}
    return {
        "PE": NamePool(
            {"F": PE_FEMALE, "M": PE_MALE, "S": PE_SURNAMES},
            {**given_tail, "S": _invented("pe-surnames", _ANDEAN_SYLLABLES, 30_000)},
            tail_given=0.2,
            tail_surname=0.35,
        ),
        "VE": NamePool(
            {"F": VE_FEMALE, "M": VE_MALE, "S": VE_SURNAMES},
            {**given_tail, "S": _invented("ve-surnames", _SPANISH_SYLLABLES, 5_000)},
            tail_given=0.25,
            tail_surname=0.35,
        ),
    }


# --- Population ------------------------------------------------------------------------
# TIP Report 2021 (Peru): police identified 640 suspected victims in 2020 (385 women,
# 118 girls, 137 boys; 79 foreign); prosecutors 470 (411 female; 244 children; 68 foreign,
# 45 of them Venezuelan). Sex trafficking and forced labour (gold mining, logging,
# agriculture, domestic service, begging) dominate; Madre de Dios, Lima, Cusco, Loreto,
# Puno and the northern border are the hotspots.

SEX = Weighted({"F": 0.8, "M": 0.195, "intersex": 0.002, "unknown": 0.003})
NATIONALITY = Weighted(
    {
        "PER": 0.87,
        "VEN": 0.085,
        "ECU": 0.013,
        "COL": 0.011,
        "BOL": 0.009,
        "DOM": 0.004,
        "CHN": 0.003,
        "BRA": 0.002,
        "HTI": 0.002,
        "CUB": 0.001,
    }
)
FORM_BY_SEX = {
    "F": Weighted(
        {
            "sexual": 0.62,
            "labour": 0.29,
            "mixed": 0.04,
            "begging": 0.02,
            "criminality": 0.01,
            "sale_of_children": 0.006,
            "forced_marriage": 0.008,
        }
    ),
    "M": Weighted(
        {
            "labour": 0.70,
            "sexual": 0.10,
            "criminality": 0.08,
            "begging": 0.06,
            "mixed": 0.03,
            "armed_recruitment": 0.015,
            "sale_of_children": 0.005,
        }
    ),
}
FORM_BY_SEX["intersex"] = FORM_BY_SEX["unknown"] = FORM_BY_SEX["F"]

# (probability of a child, child ages, adult ages) by form of exploitation
_CHILD_AGES = {
    "sexual": Weighted({12: 2, 13: 7, 14: 14, 15: 22, 16: 28, 17: 27}),
    "labour": Weighted({a: (1 if a < 12 else 3) for a in range(8, 18)}),
    "begging": Weighted({a: 1 for a in range(4, 15)}),
    "criminality": Weighted({13: 1, 14: 2, 15: 3, 16: 4, 17: 4}),
    "sale_of_children": Weighted({0: 6, 1: 3, 2: 1}),
    "forced_marriage": Weighted({12: 1, 13: 2, 14: 3, 15: 4, 16: 4, 17: 3}),
    "armed_recruitment": Weighted({a: 1 for a in range(11, 18)}),
}
_CHILD_AGES["mixed"] = _CHILD_AGES["sexual"]
_ADULT_AGES = {
    "young": Weighted(
        {a: (8 if a < 25 else 5 if a < 30 else 3 if a < 36 else 1) for a in range(18, 46)}
    ),
    "working": Weighted(
        {a: (6 if a < 30 else 4 if a < 40 else 2 if a < 50 else 1) for a in range(18, 61)}
    ),
    "begging": Weighted({a: (1 if a < 60 else 2) for a in range(25, 80)}),
}
CHILD_SHARE = {
    "sexual": 0.40,
    "labour": 0.24,
    "mixed": 0.30,
    "begging": 0.55,
    "criminality": 0.45,
    "sale_of_children": 1.0,
    "forced_marriage": 0.9,
    "armed_recruitment": 1.0,
}
ADULT_AGES_BY_FORM = {
    "sexual": "young",
    "mixed": "young",
    "criminality": "young",
    "labour": "working",
    "begging": "begging",
    "forced_marriage": "young",
}

SECTOR_BY_FORM = {
    "sexual": Weighted(
        {"commercial_sex": 0.48, "hospitality_bars": 0.42, "other": 0.03, "unknown": 0.07}
    ),
    "mixed": Weighted({"hospitality_bars": 0.75, "mining": 0.15, "other": 0.1}),
    "labour_F": Weighted(
        {
            "domestic_work": 0.34,
            "agriculture": 0.18,
            "hospitality_bars": 0.14,
            "manufacturing": 0.08,
            "peddling": 0.08,
            "mining": 0.08,
            "other": 0.04,
            "unknown": 0.06,
        }
    ),
    "labour_M": Weighted(
        {
            "mining": 0.34,
            "agriculture": 0.2,
            "logging": 0.17,
            "construction": 0.07,
            "fishing": 0.05,
            "manufacturing": 0.05,
            "peddling": 0.03,
            "transportation": 0.03,
            "other": 0.02,
            "unknown": 0.04,
        }
    ),
    "begging": Weighted({"begging": 0.9, "peddling": 0.1}),
    "criminality": Weighted({"illicit_activities": 0.9, "peddling": 0.05, "unknown": 0.05}),
    "sale_of_children": Weighted({"other": 0.6, "unknown": 0.4}),
    "forced_marriage": Weighted({"domestic_work": 0.5, "other": 0.3, "unknown": 0.2}),
    "armed_recruitment": Weighted({"illicit_activities": 0.8, "other": 0.2}),
}

_HOTSPOTS = {
    "1501": 20,
    "17": 11,
    "08": 8,
    "16": 8,
    "21": 7,
    "20": 5,
    "24": 5,
    "12": 5,
    "04": 4,
    "13": 4,
    "25": 3,
    "07": 3,
    "05": 2,
    "22": 2,
    "14": 2,
    "11": 2,
    "10": 2,
    "15": 2,
    "06": 1.5,
    "02": 1.5,
    "03": 1,
    "09": 1,
    "01": 1,
    "18": 0.5,
    "19": 0.5,
    "23": 1,
}
REGION_BY_SECTOR = {
    "mining": Weighted(
        {
            "17": 35,
            "21": 18,
            "13": 12,
            "04": 9,
            "05": 7,
            "03": 5,
            "15": 4,
            "08": 4,
            "06": 3,
            "19": 3,
        }
    ),
    "logging": Weighted({"16": 30, "25": 28, "17": 22, "10": 8, "22": 7, "12": 5}),
    "agriculture": Weighted(
        {
            "20": 18,
            "13": 16,
            "11": 14,
            "14": 10,
            "12": 10,
            "1501": 8,
            "06": 8,
            "22": 6,
            "08": 5,
            "04": 5,
        }
    ),
    "fishing": Weighted({"20": 40, "24": 25, "02": 15, "16": 10, "1501": 10}),
    "domestic_work": Weighted(
        {"1501": 50, "04": 10, "08": 8, "13": 8, "12": 6, "20": 6, "14": 6, "16": 6}
    ),
    "begging": Weighted({"1501": 55, "04": 10, "08": 10, "13": 8, "12": 7, "21": 5, "20": 5}),
    "illicit_activities": Weighted({"05": 30, "08": 20, "12": 18, "10": 12, "1501": 10, "16": 10}),
}
HOTSPOT = Weighted(_HOTSPOTS)
ORIGIN_REGION = Weighted(
    {
        "08": 12,
        "21": 11,
        "16": 10,
        "10": 8,
        "05": 8,
        "03": 7,
        "06": 7,
        "12": 6,
        "25": 5,
        "01": 4,
        "09": 5,
        "22": 5,
        "1501": 6,
        "20": 3,
        "02": 3,
    }
)
ANDEAN = frozenset({"08", "21", "03", "05", "09", "02", "10", "12"})
AMAZONIAN_LANG = {"16": "agr", "25": "shp", "12": "ash", "17": "other"}

# --- Organizations ---------------------------------------------------------------------
FIRST_KIND = Weighted(
    {
        "police": 0.36,
        "prosecutor": 0.18,
        "mimp": 0.15,
        "ngo": 0.09,
        "labour": 0.07,
        "health": 0.05,
        "migration": 0.04,
        "legal_aid": 0.02,
        "local_government": 0.02,
        "international": 0.02,
    }
)
NEXT_KIND: dict[str, dict[str, float]] = {
    "police": {"prosecutor": 0.45, "mimp": 0.3, "ngo": 0.1, "health": 0.08, "legal_aid": 0.07},
    "prosecutor": {"mimp": 0.4, "police": 0.25, "legal_aid": 0.15, "ngo": 0.1, "health": 0.1},
    "mimp": {"prosecutor": 0.35, "police": 0.3, "ngo": 0.15, "health": 0.12, "legal_aid": 0.08},
    "ngo": {"mimp": 0.35, "police": 0.3, "prosecutor": 0.25, "international": 0.1},
    "labour": {"police": 0.4, "prosecutor": 0.35, "mimp": 0.15, "legal_aid": 0.1},
    "health": {"police": 0.4, "mimp": 0.4, "prosecutor": 0.2},
    "migration": {"police": 0.4, "mimp": 0.3, "international": 0.2, "ngo": 0.1},
    "legal_aid": {"prosecutor": 0.5, "mimp": 0.3, "police": 0.2},
    "local_government": {"mimp": 0.5, "police": 0.3, "prosecutor": 0.2},
    "international": {"mimp": 0.4, "migration": 0.3, "police": 0.3},
}
#: days between one organization's screening and the next one's (mean of an exponential)
NEXT_DELAY_DAYS = {"prosecutor": 1.0, "mimp": 4.0, "police": 3.0, "legal_aid": 12.0}
#: screenings per person: ~35% of persons are seen by two or more organizations
SCREENINGS_PER_PERSON = Weighted({1: 0.65, 2: 0.22, 3: 0.09, 4: 0.03, 5: 0.01})

CONTEXT_BY_KIND = {
    "police": Weighted(
        {
            "police_operation": 0.7,
            "hotline": 0.1,
            "family_or_community": 0.1,
            "border_control": 0.05,
            "other": 0.05,
        }
    ),
    "prosecutor": Weighted(
        {"prosecutor_investigation": 0.75, "police_operation": 0.15, "other": 0.1}
    ),
    "mimp": Weighted(
        {
            "family_or_community": 0.3,
            "hotline": 0.25,
            "self_referral": 0.2,
            "school": 0.15,
            "other": 0.1,
        }
    ),
    "ngo": Weighted({"ngo_outreach": 0.7, "hotline": 0.15, "self_referral": 0.15}),
    "labour": Weighted({"labour_inspection": 0.9, "other": 0.1}),
    "health": Weighted({"health_service": 0.9, "other": 0.1}),
    "migration": Weighted({"border_control": 0.85, "other": 0.15}),
    "legal_aid": Weighted({"self_referral": 0.5, "other": 0.5}),
    "local_government": Weighted({"family_or_community": 0.4, "school": 0.3, "other": 0.3}),
    "international": Weighted({"ngo_outreach": 0.4, "border_control": 0.3, "self_referral": 0.3}),
}
_OTHER_CONTEXT = Weighted({"other": 1.0})

# --- Legal elements ----------------------------------------------------------------------
ACT_P = {
    "recruitment": 0.72,
    "transport": 0.42,
    "transfer": 0.12,
    "harbouring": 0.33,
    "receipt": 0.22,
    "retention": 0.28,
}
MEANS_P = {
    "deception": 0.55,
    "abuse_of_vulnerability": 0.33,
    "threat": 0.18,
    "violence": 0.13,
    "other_coercion": 0.07,
    "deprivation_of_liberty": 0.09,
    "fraud": 0.07,
    "abuse_of_power": 0.04,
    "payments_or_benefits": 0.04,
}
INDICATOR_P = {
    "sexual": {
        "sexual_abuse": 0.25,
        "takes_earnings": 0.35,
        "psychoactive_substances": 0.15,
        "restricts_movement": 0.25,
        "withholds_documents": 0.2,
        "threats": 0.25,
        "isolation": 0.15,
        "debt_bondage": 0.2,
        "false_promises": 0.3,
    },
    "labour": {
        "debt_bondage": 0.3,
        "withholds_documents": 0.2,
        "excessive_hours": 0.45,
        "low_or_no_pay": 0.5,
        "hazardous_work": 0.3,
        "restricts_movement": 0.2,
        "withholds_necessities": 0.15,
        "false_promises": 0.35,
        "isolation": 0.15,
    },
    "begging": {
        "uses_children": 0.6,
        "takes_earnings": 0.5,
        "physical_abuse": 0.15,
        "threats": 0.2,
    },
    "criminality": {
        "threats": 0.4,
        "threat_law_enforcement": 0.3,
        "physical_abuse": 0.2,
        "psychoactive_substances": 0.2,
        "restricts_movement": 0.2,
    },
    "other": {
        "restricts_movement": 0.3,
        "threats": 0.3,
        "psychological_abuse": 0.2,
        "isolation": 0.2,
    },
}
INDICATOR_P["mixed"] = {**INDICATOR_P["labour"], **INDICATOR_P["sexual"]}
LABOUR_PURPOSE = {
    "domestic_work": Weighted({"servitude": 0.8, "labour_exploitation": 0.2}),
    "default": Weighted({"labour_exploitation": 0.5, "forced_labour": 0.46, "slavery": 0.04}),
}
SINGLE_PURPOSE = {
    "sexual": "sexual_exploitation",
    "begging": "begging",
    "criminality": "forced_criminality",
    "sale_of_children": "sale_of_children",
    "forced_marriage": "forced_marriage",
    "armed_recruitment": "armed_recruitment",
}
RELATION = Weighted(
    {
        "employer_or_agent": 0.33,
        "friend_or_acquaintance": 0.25,
        "stranger": 0.14,
        "family": 0.1,
        "intimate_partner": 0.09,
        "unknown": 0.09,
    }
)
RECRUITMENT = Weighted(
    {
        "job_offer": 0.52,
        "online_social_network": 0.16,
        "friend": 0.1,
        "family_or_event": 0.08,
        "online_advertisement": 0.05,
        "abduction": 0.02,
        "other": 0.03,
        "unknown": 0.04,
    }
)
FOREIGN_DOCUMENT = Weighted(
    {"ptp": 0.35, "carne_extranjeria": 0.25, "passport": 0.15, "cedula_foreign": 0.25}
)
MIGRATION = Weighted(
    {"irregular": 0.45, "regular": 0.33, "asylum_seeker": 0.12, "refugee": 0.03, "unknown": 0.07}
)
GENDER = Weighted(
    {
        None: 0.88,
        "feminine": 0.06,
        "masculine": 0.03,
        "trans_feminine": 0.025,
        "trans_masculine": 0.003,
        "non_conforming": 0.002,
    }
)
NEEDS_P = {
    "shelter": 0.4,
    "medical": 0.45,
    "psychological": 0.6,
    "legal": 0.5,
    "documentation": 0.12,
    "family_tracing": 0.08,
    "financial": 0.1,
    "education": 0.08,
    "employment": 0.1,
    "return_assistance": 0.06,
}

P_NO_PURPOSE = 0.06  # the purpose was not (yet) established
P_THIN = 0.03  # only an act and weak indicators recorded

# --- Record noise ------------------------------------------------------------------------
# Per screening (each organization types the person in again):
P_NO_NAME = 0.015  # anonymous hotline call, person refused to give a name
P_DROP_SECOND_GIVEN = 0.25  # of those with two given names
P_DROP_SECOND_SURNAME = 0.05  # Peruvians; foreigners often use one surname
P_DROP_SECOND_SURNAME_FOREIGN = 0.3
P_SWAP_SURNAMES = 0.04  # maternal surname first
P_SURNAMES_FIRST = 0.08  # "QUISPE MAMANI ROSA" typed into the given-names field
P_TYPO = 0.12  # one substitution, transposition or omission in one name part
P_DROP_ACCENTS = 0.5
P_ADD_ACCENT = 0.05
P_UPPER = 0.45
P_LOWER = 0.05
P_DOC_RECORDED = 0.78  # of those who have a document
P_DOC_PLACEHOLDER = 0.03  # "00000000" or "S/N" typed instead of leaving it empty
P_DOC_TYPO = 0.01
P_SEX_UNKNOWN = 0.01
# date of birth versus age
P_DOB_KNOWN = {"PER_doc": 0.85, "PER": 0.45, "foreign": 0.6}
P_RECORD_DOB = 0.8  # of persons whose date of birth is known
P_AGE_ONLY_WHEN_DOB = 0.17
P_AGE_WRONG_BY_ONE = 0.3
P_NOTHING_WHEN_UNKNOWN = 0.12
P_DOB_TYPO = 0.02  # day and month swapped, or a wrong digit in the year

_PHONETIC = (
    ("b", "v"),
    ("v", "b"),
    ("s", "z"),
    ("z", "s"),
    ("c", "s"),
    ("y", "i"),
    ("i", "y"),
    ("ll", "y"),
    ("y", "ll"),
    ("j", "g"),
    ("g", "j"),
    ("x", "j"),
    ("k", "c"),
    ("qu", "k"),
    ("h", ""),
    ("ñ", "n"),
    ("n", "ñ"),
    ("e", "i"),
    ("o", "u"),
    ("u", "o"),
)
_ACCENTED = {"a": "á", "e": "é", "i": "í", "o": "ó", "u": "ú"}


# --- Ground truth and registrations ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrgRef:
    id: int
    kind: str
    region: str


@dataclass(slots=True)
class TruePerson:
    """Who the synthetic person really is; registers see a noisy copy of it."""

    index: int
    sex: str
    gender_identity: str | None
    given: tuple[str, ...]
    family: tuple[str, ...]
    date_of_birth: date
    dob_known: bool
    nationality: tuple[str, ...]
    documents: tuple[tuple[str, str], ...]
    languages: tuple[str, ...]
    migration_status: str
    form: str
    sector: str
    exploitation_region: str
    origin_region: str
    pregnant: bool
    disability: bool
    contact: str | None
    address: str | None


@dataclass(frozen=True, slots=True)
class Registration:
    """One organization's screening of one synthetic person."""

    person: int  # ground truth: index of the TruePerson
    org: OrgRef
    data: ScreeningInput
    created_at: datetime
    closed_at: datetime | None


class Directory:
    """The seeded organizations that may screen, by kind and region."""

    def __init__(self, orgs: Iterable[OrgRef]) -> None:
        self.by_kind: dict[str, list[OrgRef]] = {}
        self.by_kind_region: dict[tuple[str, str], list[OrgRef]] = {}
        for org in sorted(orgs, key=lambda o: o.id):
            self.by_kind.setdefault(org.kind, []).append(org)
            self.by_kind_region.setdefault((org.kind, org.region), []).append(org)
        if not self.by_kind:
            raise ValueError("no organizations to screen with: run `flask seed` first")

    @classmethod
    def load(cls, org_kinds: Sequence[str] | None = None) -> Directory:
        stmt = sa.select(Organization.id, Organization.org_kind, Organization.region_code).where(
            Organization.is_active.is_(True)
        )
        if org_kinds:
            stmt = stmt.where(Organization.org_kind.in_(list(org_kinds)))
        return cls(OrgRef(r[0], r[1], r[2]) for r in db.session.execute(stmt))

    def pick(self, rng: random.Random, kind: str, region: str, exclude: set[int]) -> OrgRef | None:
        """An organization of ``kind``, in ``region`` when there is one there."""
        for pool in (self.by_kind_region.get((kind, region), ()), self.by_kind.get(kind, ())):
            candidates = [o for o in pool if o.id not in exclude]
            if candidates:
                return candidates[rng.randrange(len(candidates))]
        return None


class Population:
    """Deterministic synthetic persons and their screenings.

    Person ``i`` is always the same for a given seed: its random stream is seeded from
    ``(seed, i)``, so batches can be generated in any order (or in parallel) and a run of
    1,000 persons is the first 1,000 persons of a run of 1,000,000.
    """

    def __init__(self, seed: int, directory: Directory) -> None:
        self.seed = seed
        self.directory = directory
        kinds = set(directory.by_kind)
        self.first_kind = Weighted(
            [
                (k, w)
                for k, w in zip(FIRST_KIND.values, _weights(FIRST_KIND), strict=True)
                if k in kinds
            ]
            or [(k, 1.0) for k in sorted(kinds)]
        )
        self.next_kind = {
            kind: Weighted(
                [(k, w) for k, w in NEXT_KIND.get(kind, {}).items() if k in kinds]
                or [(k, 1.0) for k in sorted(kinds)]
            )
            for kind in kinds
        }
        offsets = seeded(f"ruta-synth-documents:{seed}")
        self._doc_offsets = {t: offsets.randrange(_DOC_SPACE[t][1]) for t in _DOC_SPACE}
        self._days = (LAST_DAY - FIRST_DAY).days

    def person(self, index: int) -> tuple[TruePerson, list[Registration]]:
        rng = seeded(f"{self.seed}:{index}")
        truth, first_at = self._truth(rng, index)
        return truth, self._registrations(rng, truth, first_at)

    # -- the person ----------------------------------------------------------------------
    def _truth(self, rng: random.Random, index: int) -> tuple[TruePerson, datetime]:
        sex = SEX(rng)
        nationality = NATIONALITY(rng)
        foreign = nationality != "PER"
        form = FORM_BY_SEX[sex](rng)
        child = rng.random() < CHILD_SHARE[form]
        age = (_CHILD_AGES[form] if child else _ADULT_AGES[ADULT_AGES_BY_FORM.get(form, "young")])(
            rng
        )
        if form == "labour":
            sector = SECTOR_BY_FORM["labour_M" if sex == "M" else "labour_F"](rng)
        else:
            sector = SECTOR_BY_FORM[form](rng)
        exploitation_region = REGION_BY_SECTOR.get(sector, HOTSPOT)(rng)
        if foreign:
            origin = "abroad"
        elif rng.random() < 0.45:
            origin = exploitation_region
        else:
            origin = ORIGIN_REGION(rng)

        first_day = FIRST_DAY + timedelta(days=rng.randrange(self._days + 1))
        minutes = rng.randrange(6 * 60, 24 * 60)
        first_at = datetime(
            first_day.year, first_day.month, first_day.day, tzinfo=LIMA
        ) + timedelta(minutes=minutes)
        dob = first_day - timedelta(days=365 * age + rng.randrange(365) + age // 4)

        female = sex != "M"
        names = name_pools()["VE" if foreign else "PE"]
        given_w = names["F" if female else "M"]
        given = [names.given(rng, female)]
        if " " not in given[0] and rng.random() < (0.55 if not foreign else 0.35):
            second = names.given(rng, female)
            if second != given[0]:
                given.append(second)
        family = [names.surname(rng), names.surname(rng)]
        if family[1] == family[0] and rng.random() < 0.8:
            family[1] = names.surname(rng)

        documents = self._documents(rng, index, nationality, child)
        if foreign:
            dob_known = rng.random() < P_DOB_KNOWN["foreign"]
        else:
            dob_known = rng.random() < P_DOB_KNOWN["PER_doc" if documents else "PER"]

        languages: tuple[str, ...] = ("es",)
        if nationality == "BRA":
            languages = ("pt",)
        elif not foreign and origin in ANDEAN and rng.random() < 0.35:
            native = "ay" if origin == "21" and rng.random() < 0.4 else "qu"
            languages = (native,) if rng.random() < 0.1 else ("es", native)
        elif not foreign and origin in AMAZONIAN_LANG and rng.random() < 0.12:
            languages = ("es", AMAZONIAN_LANG[origin])

        gender = GENDER(rng)
        if gender == "trans_feminine":
            sex = "M"
        elif gender == "trans_masculine":
            sex = "F"
        elif gender == "feminine" and sex == "M":
            gender = "masculine"
        elif gender == "masculine" and sex == "F":
            gender = "feminine"
        truth = TruePerson(
            index=index,
            sex=sex,
            gender_identity=gender,
            given=tuple(given),
            family=tuple(family),
            date_of_birth=dob,
            dob_known=dob_known,
            nationality=(nationality,),
            documents=documents,
            languages=languages,
            migration_status=MIGRATION(rng) if foreign else "national",
            form=form,
            sector=sector,
            exploitation_region=exploitation_region,
            origin_region=origin,
            pregnant=sex == "F" and 15 <= age <= 40 and rng.random() < 0.04,
            disability=rng.random() < 0.02,
            contact=f"9{rng.randrange(10**8):08d}" if rng.random() < 0.3 else None,
            address=(
                f"{rng.choice(_STREETS)} {given_w(rng)} {rng.randrange(1, 1500)}"
                if rng.random() < 0.12
                else None
            ),
        )
        return truth, first_at

    def _documents(
        self, rng: random.Random, index: int, nationality: str, child: bool
    ) -> tuple[tuple[str, str], ...]:
        if nationality == "PER":
            if rng.random() < (0.75 if child else 0.88):
                return (("dni", self._number("dni", index)),)
            return ()
        if rng.random() < 0.22:
            return ()
        first = FOREIGN_DOCUMENT(rng)
        docs = [(first, self._number(first, index))]
        if rng.random() < 0.3:  # a second document shown to another organization
            second = rng.choice([k for k in FOREIGN_DOCUMENT.values if k != first])
            docs.append((second, self._number(second, index)))
        return tuple(docs)

    def _number(self, kind: str, index: int) -> str:
        """Distinct numbers per type: an affine bijection of the person index."""
        base, space, digits = _DOC_SPACE[kind]
        n = base + (index * _DOC_MULTIPLIER + self._doc_offsets[kind]) % space
        return f"{n:0{digits}d}"

    # -- the screenings --------------------------------------------------------------------
    def _registrations(
        self, rng: random.Random, truth: TruePerson, first_at: datetime
    ) -> list[Registration]:
        k = SCREENINGS_PER_PERSON(rng)
        regs: list[Registration] = []
        seen_orgs: set[int] = set()
        kind = self.first_kind(rng)
        region = truth.exploitation_region
        when = first_at
        end = datetime(LAST_DAY.year, LAST_DAY.month, LAST_DAY.day, 23, 59, tzinfo=LIMA)
        for order in range(k):
            if order:
                kind = self.next_kind.get(kind, self.first_kind)(rng)
                r = rng.random()
                if r < 0.12:
                    region = "1501"
                elif r < 0.2 and truth.origin_region != "abroad":
                    region = truth.origin_region
                else:
                    region = truth.exploitation_region
                delay = rng.expovariate(1.0 / NEXT_DELAY_DAYS.get(kind, 30.0))
                when = when + timedelta(days=delay, minutes=rng.randrange(30, 600))
                if when > end:
                    break
            org = self.directory.pick(rng, kind, region, seen_orgs)
            if org is None:
                continue
            seen_orgs.add(org.id)
            regs.append(self._registration(rng, truth, org, when))
        return regs

    def _registration(
        self, rng: random.Random, t: TruePerson, org: OrgRef, when: datetime
    ) -> Registration:
        identified_on = when.date()
        foreign = t.nationality != ("PER",)
        true_age = _age_on(t.date_of_birth, identified_on)
        child = true_age < 18

        # identity as this organization recorded it
        given, family = _noisy_name(rng, t, foreign)
        dob: date | None = None
        age: int | None = None
        estimated = False
        appears_minor: bool | None = None
        r = rng.random()
        if t.dob_known and r < P_RECORD_DOB:
            dob = t.date_of_birth
            if rng.random() < P_DOB_TYPO:
                dob = _dob_typo(rng, dob)
                if dob > identified_on:  # the API refuses a birth after identification
                    dob = t.date_of_birth
        elif (t.dob_known and r < P_RECORD_DOB + P_AGE_ONLY_WHEN_DOB) or (
            not t.dob_known and r >= P_NOTHING_WHEN_UNKNOWN
        ):
            estimated = not t.dob_known or rng.random() < 0.3
            age = true_age
            if rng.random() < P_AGE_WRONG_BY_ONE:
                age = max(0, age + rng.choice((-1, 1)))
        elif child and rng.random() < 0.7:
            appears_minor = True
        document = None
        if t.documents and rng.random() < P_DOC_RECORDED:
            doc_type, number = t.documents[rng.randrange(len(t.documents))]
            document = DocumentInput.model_construct(
                type=doc_type, number=_noisy_number(rng, doc_type, number)
            )
        elif rng.random() < P_DOC_PLACEHOLDER:
            document = DocumentInput.model_construct(
                type="dni" if not foreign else "other",
                number=rng.choice(("00000000", "S/N", "99999999")),
            )
        sex = "unknown" if rng.random() < P_SEX_UNKNOWN else t.sex
        person = PersonInput.model_construct(
            sex=sex,
            given_names=given,
            family_names=family,
            gender_identity=t.gender_identity if rng.random() < 0.8 else None,
            date_of_birth=dob,
            age_years=age,
            age_estimated=estimated,
            appears_minor=appears_minor,
            nationality=t.nationality if rng.random() < 0.97 else (),
            document=document,
            languages=t.languages if rng.random() < 0.85 else (),
            pregnant=t.pregnant and rng.random() < 0.8,
            disability=t.disability and rng.random() < 0.7,
            migration_status=t.migration_status if rng.random() < 0.9 else None,
            unaccompanied=child and (foreign or t.form == "begging") and rng.random() < 0.4,
            contact=t.contact if rng.random() < 0.7 else None,
            address=t.address if rng.random() < 0.5 else None,
        )

        # what happened, as this organization recorded it
        acts = [a for a, p in ACT_P.items() if rng.random() < p]
        if not acts and rng.random() < 0.9:
            acts = ["recruitment"]
        means = [m for m, p in MEANS_P.items() if rng.random() < p]
        if rng.random() < 0.12:
            means = []
        elif not means:
            means = ["deception"]
        purposes = _purposes(rng, t)
        if rng.random() < P_NO_PURPOSE:
            purposes = []
        indicator_p = INDICATOR_P.get(t.form, INDICATOR_P["other"])
        indicators = [i for i, p in indicator_p.items() if rng.random() < p]
        if rng.random() < P_THIN:  # a first contact that recorded little: not indicated
            acts, means, purposes = acts[:1], [], []
            indicators = [i for i in indicators if i not in STRONG_INDICATORS]
        needs = [
            n for n, p in NEEDS_P.items() if rng.random() < (0.8 if child and n == "shelter" else p)
        ]
        context = ContextInput.model_construct(
            origin_region=t.origin_region if rng.random() < 0.7 else None,
            exploitation_region=t.exploitation_region if rng.random() < 0.85 else None,
            sector=t.sector if rng.random() < 0.85 else None,
            trafficker_relation=RELATION(rng) if rng.random() < 0.7 else None,
            recruitment_method=RECRUITMENT(rng) if rng.random() < 0.6 else None,
            public_official_involved=rng.random() < 0.02,
            multiple_victims=rng.random() < (0.5 if org.kind == "police" else 0.25),
            criminal_organization=rng.random() < 0.15,
            serious_injury_or_death=rng.random() < 0.005,
        )
        data = ScreeningInput.model_construct(
            identified_at=when.astimezone(UTC),
            region=org.region,
            person=person,
            acts=tuple(acts),
            means=tuple(means),
            purposes=tuple(purposes),
            indicators=tuple(indicators),
            stated_consent=rng.random() < 0.15,
            identification_context=CONTEXT_BY_KIND.get(org.kind, _OTHER_CONTEXT)(rng),
            context=context,
            needs=tuple(needs),
        )
        created_at = data.identified_at + timedelta(minutes=rng.randrange(5, 48 * 60))
        closed_at = None
        if identified_on < date(2025, 7, 1) and rng.random() < 0.5:
            closed_at = created_at + timedelta(days=rng.randrange(30, 300))
        return Registration(t.index, org, data, created_at, closed_at)


_STREETS = ("Jr.", "Av.", "Calle", "Psje.", "Mz. B Lt.", "AA.HH. Los Jardines, Mz. C Lt.")
# (first number, size of the number space, digits) per document type
_DOC_SPACE = {
    "dni": (10_000_000, 70_000_000, 8),
    "carne_extranjeria": (1_000_000, 8_000_000, 9),
    "ptp": (100_000_000, 800_000_000, 9),
    "passport": (100_000_000, 800_000_000, 9),
    "cedula_foreign": (10_000_000, 20_000_000, 8),
}
_DOC_MULTIPLIER = 39_916_801  # odd, not divisible by 5 or 7: a bijection modulo each space


def _weights(w: Weighted[T]) -> list[float]:
    return [b - a for a, b in zip([0.0, *w.cum[:-1]], w.cum, strict=True)]


def _age_on(dob: date, day: date) -> int:
    return day.year - dob.year - int((day.month, day.day) < (dob.month, dob.day))


def _purposes(rng: random.Random, t: TruePerson) -> list[str]:
    if t.form == "labour":
        return [LABOUR_PURPOSE.get(t.sector, LABOUR_PURPOSE["default"])(rng)]
    if t.form == "mixed":
        return ["sexual_exploitation", "labour_exploitation"]
    return [SINGLE_PURPOSE[t.form]]


# --- Noise -----------------------------------------------------------------------------------


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch) or ch == "\u0303")
    return unicodedata.normalize("NFC", kept)  # keep Ñ: "Nunez" is a different spelling


def typo(rng: random.Random, word: str) -> str:
    """One realistic mistake: a phonetic or keyboard substitution, a transposition of
    adjacent letters, or an omitted letter (never the first letter)."""
    if len(word) < 3:
        return word
    kind = rng.random()
    if kind < 0.45:
        lower = word.lower()
        options = [(i, a, b) for a, b in _PHONETIC for i in _find_all(lower, a) if i > 0]
        if options:
            i, a, b = options[rng.randrange(len(options))]
            return word[:i] + _match_case(word[i : i + len(a)], b) + word[i + len(a) :]
        kind = 0.5
    if kind < 0.75:
        i = rng.randrange(1, len(word) - 1)
        if word[i] != word[i + 1]:
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    i = rng.randrange(1, len(word))
    return word[:i] + word[i + 1 :]


def _find_all(text: str, sub: str) -> Iterator[int]:
    i = text.find(sub)
    while i >= 0:
        yield i
        i = text.find(sub, i + 1)


def _match_case(original: str, replacement: str) -> str:
    return replacement.upper() if original.isupper() else replacement


def _add_accent(rng: random.Random, word: str) -> str:
    positions = [i for i, ch in enumerate(word) if ch.lower() in _ACCENTED]
    if not positions:
        return word
    i = positions[rng.randrange(len(positions))]
    accented = _ACCENTED[word[i].lower()]
    return word[:i] + (accented.upper() if word[i].isupper() else accented) + word[i + 1 :]


def _noisy_name(rng: random.Random, t: TruePerson, foreign: bool) -> tuple[str | None, str | None]:
    if rng.random() < P_NO_NAME:
        return None, None
    given = list(t.given)
    family = list(t.family)
    if len(given) > 1 and rng.random() < P_DROP_SECOND_GIVEN:
        given = given[:1]
    if rng.random() < (P_DROP_SECOND_SURNAME_FOREIGN if foreign else P_DROP_SECOND_SURNAME):
        family = family[:1]
    elif rng.random() < P_SWAP_SURNAMES:
        family.reverse()
    parts = given + family
    if rng.random() < P_TYPO:
        i = rng.randrange(len(parts))
        parts[i] = typo(rng, parts[i])
    if rng.random() < P_DROP_ACCENTS:
        parts = [strip_accents(p) for p in parts]
    elif rng.random() < P_ADD_ACCENT:
        i = rng.randrange(len(parts))
        parts[i] = _add_accent(rng, parts[i])
    r = rng.random()
    if r < P_UPPER:
        parts = [p.upper() for p in parts]
    elif r < P_UPPER + P_LOWER:
        parts = [p.lower() for p in parts]
    given_text = " ".join(parts[: len(given)])
    family_text = " ".join(parts[len(given) :])
    if rng.random() < P_SURNAMES_FIRST:
        return family_text, given_text
    return given_text, family_text


def _dob_typo(rng: random.Random, dob: date) -> date:
    if dob.day <= 12 and dob.day != dob.month and rng.random() < 0.6:
        return dob.replace(month=dob.day, day=dob.month)
    year = dob.year + rng.choice((-10, -1, 1, 10))
    return dob.replace(year=year, day=min(dob.day, 28))


def _noisy_number(rng: random.Random, doc_type: str, number: str) -> str:
    if rng.random() < P_DOC_TYPO:
        i = rng.randrange(len(number) - 1)
        if rng.random() < 0.5:
            number = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
        else:
            number = number[:i] + str(rng.randrange(10)) + number[i + 1 :]
    if doc_type == "dni" and rng.random() < 0.05:
        return f"{number}-{rng.randrange(10)}"  # with the check digit
    if doc_type == "cedula_foreign" and rng.random() < 0.4:
        return f"V-{int(number):,}".replace(",", ".")
    return number


# --- Rows ----------------------------------------------------------------------------------


class FastCipher:
    """``Keyring.encrypt`` with one AESGCM object for the run instead of one per value.

    Same ciphertext layout and associated data (the column context), so
    ``Keyring.decrypt`` and ``EncryptedText`` read the values back unchanged.
    """

    def __init__(self, ring: Keyring) -> None:
        kid = ring.current_key_id.encode()
        self._prefix = bytes([FORMAT_VERSION, len(kid)]) + kid
        self._aead = AESGCM(ring.data_keys[ring.current_key_id])

    def encrypt(self, plaintext: str | None, context: bytes) -> bytes | None:
        if plaintext is None:
            return None
        nonce = os.urandom(NONCE_BYTES)
        return self._prefix + nonce + self._aead.encrypt(nonce, plaintext.encode(), context)


_CTX = {
    name: name.encode()
    for name in (
        "persons.given_names",
        "persons.family_names",
        "persons.date_of_birth",
        "persons.document_number",
        "persons.contact",
        "persons.address",
        "screenings.facts",
    )
}


@dataclass(frozen=True, slots=True)
class _PersonView:
    """The attributes of ``Person`` that ``facts.services`` helpers read."""

    sex: str
    gender_identity: str | None
    given_names: str | None
    family_names: str | None
    date_of_birth: str | None
    document_type: str | None
    document_number: str | None


@dataclass(frozen=True, slots=True)
class _CaseView:
    person: _PersonView


@dataclass(frozen=True, slots=True)
class _ScreeningView:
    case: _CaseView
    identified_at: datetime
    age_years: int | None


def plain(value: Any) -> Any:
    """``dataclasses.asdict`` without its deep copies (tuples become lists for JSON)."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    names = _FIELD_NAMES.get(kind)
    if names is not None:
        return {f: plain(getattr(value, f)) for f in names}
    if kind is tuple or kind is list:
        return [v if type(v) is str else plain(v) for v in value]
    if isinstance(value, BaseModel):  # the request models (screening.schema)
        _FIELD_NAMES[kind] = tuple(kind.model_fields)
        return plain(value)
    if is_dataclass(value) and not isinstance(value, type):
        _FIELD_NAMES[kind] = tuple(f.name for f in fields(value))
        return plain(value)
    return value


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
_SCALARS = frozenset({str, int, float, bool, type(None), date, datetime})


def _json_default(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value))


def facts_json(data: ScreeningInput) -> str:
    """The encrypted ``screenings.facts`` text, as ``screening.services`` writes it."""
    return json.dumps(plain(data), default=_json_default, sort_keys=True)


class _Json:
    """JSON text of small lists, memoised: a handful of distinct values repeat."""

    def __init__(self) -> None:
        self._memo: dict[Any, str] = {}

    def __call__(self, value: Any) -> str:
        key = tuple(value) if isinstance(value, list) else None
        if key is None:
            return json.dumps(value)
        text = self._memo.get(key)
        if text is None:
            if len(self._memo) > 100_000:
                self._memo.clear()
            text = self._memo[key] = json.dumps(value)
        return text


# Column order: the ids first (the builder leaves them out, ``IdAssigner`` adds them).
CASE_COLUMNS = (
    "id",
    "uuid",
    "organization_id",
    "created_by_id",
    "status",
    "region",
    "determination",
    "created_at",
    "updated_at",
    "closed_at",
    "legal_hold",
    "purged_at",
    "version",
)
PERSON_COLUMNS = (
    "id",
    "case_id",
    "given_names",
    "family_names",
    "date_of_birth",
    "document_type",
    "document_number",
    "contact",
    "address",
    "name_index",
    "document_index",
    "sex",
    "gender_identity",
    "lgbtqi",
    "age_years",
    "age_estimated",
    "appears_minor",
    "nationality",
    "languages",
    "migration_status",
    "pregnant",
    "disability",
    "unaccompanied",
)
SCREENING_COLUMNS = (
    "id",
    "uuid",
    "case_id",
    "organization_id",
    "created_by_id",
    "created_at",
    "identified_at",
    "region",
    "identification_context",
    "acts",
    "means",
    "purposes",
    "indicators",
    "needs",
    "stated_consent",
    "context",
    "notes",
    "facts",
    "status",
    "missing_elements",
    "aggravating",
    "exploitation_form",
    "explanation",
    "alerts",
    "rule_version",
    "tags",
    "age_years",
    "age_group",
    "unodc_category",
    "mp_band",
    "ctdc_band",
    "override_status",
    "override_justification",
    "override_by_id",
    "override_at",
)
FACT_COLUMNS = (
    "screening_id",
    "organization_id",
    "org_kind",
    "identified_at",
    "identified_on",
    "year",
    "month",
    "status",
    "region",
    "exploitation_region",
    "sex",
    "gender_identity",
    "age_group",
    "unodc_category",
    "mp_band",
    "ctdc_band",
    "nationality",
    "nationality_group",
    "exploitation_form",
    "sector",
    "identification_context",
    "person_id",
    "doc_key",
    "name_dob_key",
    "name_sex_key",
    "birth_year",
    "name_bloom",
    "name_blocks",
    "dob_key",
)
PURPOSE_COLUMNS = ("screening_id", "purpose")
TABLES: tuple[tuple[sa.Table, tuple[str, ...]], ...] = (
    (cast(sa.Table, Case.__table__), CASE_COLUMNS),
    (cast(sa.Table, Person.__table__), PERSON_COLUMNS),
    (cast(sa.Table, Screening.__table__), SCREENING_COLUMNS),
    (cast(sa.Table, ScreeningFact.__table__), FACT_COLUMNS),
    (cast(sa.Table, ScreeningFactPurpose.__table__), PURPOSE_COLUMNS),
)
_JSON_COLUMNS = frozenset(
    {
        "nationality",
        "languages",
        "acts",
        "means",
        "purposes",
        "indicators",
        "needs",
        "context",
        "missing_elements",
        "aggravating",
        "explanation",
        "alerts",
        "tags",
    }
)


def check_columns() -> None:
    """Fail loudly when a model gained or lost a column synth does not write."""
    for table, columns in TABLES:
        if set(table.columns.keys()) != set(columns):
            missing = sorted(set(table.columns.keys()) - set(columns))
            extra = sorted(set(columns) - set(table.columns.keys()))
            raise RuntimeError(
                f"synth does not match table {table.name}: not written {missing}, "
                f"unknown {extra}; update caseapp/reports/synth.py"
            )


class Built(NamedTuple):
    """One screening's rows without their ids (what a worker process sends back)."""

    person: int  # ground truth: index of the TruePerson
    case: tuple[Any, ...]  # CASE_COLUMNS[1:]
    person_row: tuple[Any, ...]  # PERSON_COLUMNS[2:]
    screening_uuid: str
    screening: tuple[Any, ...]  # SCREENING_COLUMNS[3:]
    fact_head: tuple[Any, ...]  # FACT_COLUMNS[1:21]
    fact_tail: tuple[Any, ...]  # FACT_COLUMNS[22:]
    purposes: tuple[str, ...]


@dataclass
class Batch:
    """Rows of the five tables, as tuples in the column order above."""

    cases: list[tuple[Any, ...]] = field(default_factory=list)
    persons: list[tuple[Any, ...]] = field(default_factory=list)
    screenings: list[tuple[Any, ...]] = field(default_factory=list)
    facts: list[tuple[Any, ...]] = field(default_factory=list)
    purposes: list[tuple[Any, ...]] = field(default_factory=list)
    truth: list[int] = field(default_factory=list)

    def tables(self) -> list[tuple[sa.Table, tuple[str, ...], list[tuple[Any, ...]]]]:
        rows = (self.cases, self.persons, self.screenings, self.facts, self.purposes)
        return [(t, c, r) for (t, c), r in zip(TABLES, rows, strict=True)]

    def __len__(self) -> int:
        return sum(len(r) for _, _, r in self.tables())


class RowBuilder:
    """Turns a registration into the values the screening service would store.

    The decision comes from ``rules.determine``/``profile``, the blind indexes from
    ``screening.services``, the fact values and pseudonyms from ``facts.services`` and
    ``facts.fuzzy``. Personal data is encrypted like ``EncryptedText`` does.
    """

    def __init__(self, ring: Keyring) -> None:
        self.cipher = FastCipher(ring)
        self.names = fuzzy.encoder(ring.index_key)
        self.json = _Json()

    def build(self, reg: Registration) -> Built:
        data, org = reg.data, reg.org
        p = data.person
        context = plain(data.context)
        facts = screening_services.facts_from(data, context)
        determination = rules.determine(facts)
        profile = rules.profile(facts)
        enc, ctx, js = self.cipher.encrypt, _CTX, self.json
        status = determination.status

        case = (
            str(uuid.uuid4()),
            org.id,
            None,
            "open" if reg.closed_at is None else "closed",
            data.region,
            status,
            reg.created_at,
            reg.created_at,
            reg.closed_at,
            False,
            None,
            1,
        )
        dob = p.date_of_birth.isoformat() if p.date_of_birth else None
        doc_type = p.document.type if p.document else None
        doc_number = p.document.number if p.document else None
        person = (
            enc(p.given_names, ctx["persons.given_names"]),
            enc(p.family_names, ctx["persons.family_names"]),
            enc(dob, ctx["persons.date_of_birth"]),
            doc_type,
            enc(doc_number, ctx["persons.document_number"]),
            enc(p.contact, ctx["persons.contact"]),
            enc(p.address, ctx["persons.address"]),
            screening_services.name_index(p.given_names, p.family_names),
            screening_services.document_index(doc_number),
            p.sex,
            p.gender_identity,
            p.lgbtqi,
            p.age_years,
            p.age_estimated,
            p.appears_minor,
            js(list(p.nationality)),
            js(list(p.languages)),
            p.migration_status,
            p.pregnant,
            p.disability,
            p.unaccompanied,
        )
        screening = (
            org.id,
            None,
            reg.created_at,
            data.identified_at,
            data.region,
            data.identification_context,
            js(list(data.acts)),
            js(list(data.means)),
            js(list(data.purposes)),
            js(list(data.indicators)),
            js(list(data.needs)),
            data.stated_consent,
            json.dumps(context),
            None,
            enc(facts_json(data), ctx["screenings.facts"]),
            status,
            js(list(determination.missing_elements)),
            js(list(determination.aggravating)),
            determination.exploitation_form,
            json.dumps([r.as_dict() for r in determination.explanation]),
            js(list(determination.alerts)),
            determination.rule_version,
            js(list(profile.tags)),
            profile.age_years,
            profile.age_group,
            profile.unodc_category,
            profile.mp_band,
            profile.ctdc_band,
            None,
            None,
            None,
            None,
        )

        # facts.services.record, from the same values
        view = _PersonView(
            p.sex, p.gender_identity, p.given_names, p.family_names, dob, doc_type, doc_number
        )
        keys = report_facts.pseudonyms_of(
            cast(Screening, _ScreeningView(_CaseView(view), data.identified_at, profile.age_years))
        )
        names = self.names.encode(p.given_names, p.family_names, p.sex, p.date_of_birth)
        nationality, group = report_facts.primary_nationality(list(p.nationality))
        local = data.identified_at.astimezone(LIMA)
        fact_head = (
            org.id,
            org.kind,
            data.identified_at,
            local.date(),
            local.year,
            f"{local.year:04d}-{local.month:02d}",
            status,
            data.region,
            context.get("exploitation_region") or "unknown",
            p.sex,
            report_facts.collapsed_gender(cast(Person, view)),
            profile.age_group,
            profile.unodc_category,
            profile.mp_band,
            profile.ctdc_band,
            nationality,
            group,
            determination.exploitation_form,
            context.get("sector") or "unknown",
            data.identification_context or "unknown",
        )
        fact_tail = (
            keys.doc,
            keys.name_dob,
            keys.name_sex_year,
            keys.birth_year,
            names.bloom,
            names.blocks,
            names.dob,
        )
        return Built(
            reg.person,
            case,
            person,
            str(uuid.uuid4()),
            screening,
            fact_head,
            fact_tail,
            tuple(sorted(set(data.purposes))),
        )


class IdAssigner:
    """Gives built screenings their ids from pre-allocated ranges, in order, so children
    reference parents without a round trip."""

    def __init__(self, first: Mapping[str, int]) -> None:
        self.next_case = first["cases"]
        self.next_person = first["persons"]
        self.next_screening = first["screenings"]

    def add(self, batch: Batch, built: Built) -> int:
        case_id, person_id, screening_id = self.next_case, self.next_person, self.next_screening
        self.next_case += 1
        self.next_person += 1
        self.next_screening += 1
        batch.cases.append((case_id, *built.case))
        batch.persons.append((person_id, case_id, *built.person_row))
        batch.screenings.append((screening_id, built.screening_uuid, case_id, *built.screening))
        # a new fact is its own person until linked (facts.services.record)
        batch.facts.append((screening_id, *built.fact_head, screening_id, *built.fact_tail))
        batch.purposes.extend((screening_id, purpose) for purpose in built.purposes)
        batch.truth.append(built.person)
        return screening_id

    @property
    def last_ids(self) -> dict[str, int]:
        return {
            "cases": self.next_case - 1,
            "persons": self.next_person - 1,
            "screenings": self.next_screening - 1,
        }


# --- Writing -------------------------------------------------------------------------------


def _plain_table(table: sa.Table) -> sa.TableClause:
    """The table for Core inserts of ready-made values: encrypted columns take the
    ciphertext bytes, JSON columns their text; other types (UTC datetimes) as modelled."""
    columns: list[sa.ColumnClause[Any]] = []
    for c in table.columns:
        if isinstance(c.type, EncryptedText):
            columns.append(sa.column(c.name, sa.LargeBinary()))
        elif c.name in _JSON_COLUMNS:
            columns.append(sa.column(c.name, sa.Text()))
        else:
            columns.append(sa.column(c.name, c.type))
    return sa.table(table.name, *columns)


class Writer:
    """Batched inserts: psycopg COPY on PostgreSQL; elsewhere one ``executemany`` per table
    and batch, with values converted once by the column types' bind processors."""

    def __init__(self) -> None:
        self.connection = db.session.connection()
        self.postgres = self.connection.dialect.name == "postgresql"
        self.inserts: dict[str, tuple[str, list[Any]]] = {}
        if not self.postgres:
            dialect = self.connection.dialect
            if dialect.name == "sqlite":
                # random keys (uuids, pseudonyms) in seven indexes: the default 2 MB page
                # cache makes every insert a disk read once the tables outgrow it
                self.connection.exec_driver_sql("PRAGMA cache_size = -262144")  # 256 MB
            marker = "?" if dialect.paramstyle == "qmark" else "%s"
            for table, columns in TABLES:
                plain_table = _plain_table(table)
                processors = [
                    plain_table.c[name].type._cached_bind_processor(dialect) for name in columns
                ]
                sql = (
                    f"INSERT INTO {table.name} ({', '.join(columns)}) "  # noqa: S608
                    f"VALUES ({', '.join([marker] * len(columns))})"
                )
                self.inserts[table.name] = (sql, processors)
        self.rows = 0

    def write(self, batch: Batch) -> None:
        for table, columns, rows in batch.tables():
            if not rows:
                continue
            if self.postgres:
                self._copy(table.name, columns, rows)
            else:
                sql, processors = self.inserts[table.name]
                converted = [
                    tuple(
                        v if f is None or v is None else f(v)
                        for f, v in zip(processors, row, strict=True)
                    )
                    for row in rows
                ]
                self.connection.exec_driver_sql(sql, converted)
            self.rows += len(rows)

    def _copy(self, name: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        raw = self.connection.connection.driver_connection
        assert raw is not None
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)


_ID_TABLES = ("cases", "persons", "screenings")


@dataclass
class DeferredChecks:
    """PostgreSQL: the secondary indexes and foreign keys of the five tables synth loads,
    dropped for the load and rebuilt after the linkage, in the same transaction.

    Loading 1.5 million screenings row by row into about twenty indexes (the facts alone
    have ten, one of them a GIN index of name blocks) and checking four foreign keys per
    row is most of PostgreSQL's time in ``synth``, and linking then rewrites a third of
    the facts in every index again. A sorted bulk build of each index and one validating
    join per foreign key afterwards cost a fraction of that. Primary keys and unique
    constraints stay (other tables reference them). The definitions are read back from
    the catalog, so what is restored is exactly what was there. The tables are held
    exclusively until the commit: synth is for demos and benchmarks, never production.
    """

    statements: list[str] = field(default_factory=list)

    @classmethod
    def drop(cls) -> DeferredChecks:
        conn = db.session.connection()
        if conn.dialect.name != "postgresql":
            return cls()
        tables = [t.name for t, _ in TABLES]
        params = {"tables": tables}
        foreign_keys = conn.execute(
            sa.text(
                "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
                "FROM pg_constraint c WHERE c.contype = 'f' "
                "AND c.conrelid = ANY (SELECT oid FROM pg_class WHERE relname = ANY(:tables) "
                "AND relnamespace = current_schema()::regnamespace) ORDER BY c.conname"
            ),
            params,
        ).all()
        indexes = conn.execute(
            sa.text(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
                "WHERE t.relname = ANY(:tables) "
                "AND t.relnamespace = current_schema()::regnamespace "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
                "ORDER BY 1"
            ),
            params,
        ).all()
        for table, name, _ in foreign_keys:
            conn.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            conn.exec_driver_sql(f"DROP INDEX {name}")
        return cls(
            [definition for _, definition in indexes]
            + [
                f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
                for table, name, definition in foreign_keys
            ]
        )

    def restore(self) -> None:
        conn = db.session.connection()
        # memory for the sorts of the index builds, for this transaction only
        conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
        for statement in self.statements:
            conn.exec_driver_sql(statement)


def _reserve_ids() -> dict[str, int]:
    """First free id of each table. On PostgreSQL the tables are locked against other
    writers until commit (so no one else takes an id in between) and the sequences may
    be ahead of the largest id (rolled-back inserts); SQLite has no sequences."""
    conn = db.session.connection()
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        conn.exec_driver_sql("LOCK TABLE cases, persons, screenings IN EXCLUSIVE MODE")
    first: dict[str, int] = {}
    for name in _ID_TABLES:
        top = int(
            conn.exec_driver_sql(
                f"SELECT coalesce(max(id), 0) FROM {name}"  # noqa: S608 - fixed table names
            ).scalar()
            or 0
        )
        if postgres:
            last = conn.execute(
                sa.text(
                    "SELECT last_value FROM pg_sequences "
                    "WHERE schemaname || '.' || sequencename = pg_get_serial_sequence(:t, 'id')"
                ),
                {"t": name},
            ).scalar()
            top = max(top, int(last or 0))
        first[name] = top + 1
    return first


def _advance_sequences(used: Mapping[str, int]) -> None:
    """Point each PostgreSQL sequence at the last id synth used."""
    conn = db.session.connection()
    if conn.dialect.name != "postgresql":
        return
    for name, last in used.items():
        if last < 1:
            continue
        conn.execute(
            sa.text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :v)"), {"t": name, "v": last}
        )


# --- Evaluation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkageQuality:
    """Pairwise quality of a clustering against the truth (pairs of screenings)."""

    true_pairs: int
    linked_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.linked_pairs if self.linked_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    def summary(self, label: str = "linkage") -> str:
        return (
            f"{label} precision {self.precision:.4f} recall {self.recall:.4f} "
            f"(pairs: true {self.true_pairs}, linked {self.linked_pairs}, "
            f"correct {self.correct_pairs})"
        )


def pairwise_quality(truth: Sequence[Any], predicted: Sequence[Any]) -> LinkageQuality:
    """Precision and recall over pairs of records, from cluster contingency counts.

    A pair is linked when both records have the same predicted cluster, true when they
    have the same true cluster; summing n(n-1)/2 over the clusters and over the
    (true, predicted) cells counts the pairs without enumerating them.
    """
    if len(truth) != len(predicted):
        raise ValueError("truth and prediction must have one entry per record")

    def pairs(counter: Counter[Any]) -> int:
        return sum(n * (n - 1) // 2 for n in counter.values())

    return LinkageQuality(
        true_pairs=pairs(Counter(truth)),
        linked_pairs=pairs(Counter(predicted)),
        correct_pairs=pairs(Counter(zip(truth, predicted, strict=True))),
    )


# --- Running -----------------------------------------------------------------------------------


@dataclass
class SynthResult:
    persons: int
    screenings: int
    rows: int
    linked_persons: int
    elapsed: float
    truth: dict[int, int] = field(repr=False)  # screening id -> true person index
    quality: LinkageQuality | None = None
    exact_quality: LinkageQuality | None = None  # the exact keys alone, for comparison
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.elapsed if self.elapsed else 0.0


def default_workers(persons: int) -> int:
    """Worker processes for building rows: none for small runs (forking costs more)."""
    return 1 if persons < 20_000 else max(1, os.cpu_count() or 1)


def generate(
    actor: Any,
    persons: int,
    *,
    seed: int = 1,
    org_kinds: Sequence[str] | None = None,
    evaluate: bool = True,
    workers: int | None = None,
    batch_persons: int = BATCH_PERSONS,
    progress: Callable[[int], None] | None = None,
) -> SynthResult:
    """Insert ``persons`` synthetic persons with their screenings and link them.

    Runs in the caller's transaction and never commits. Rows are built in ``workers``
    forked processes (``None``: ``default_workers``) and written by this one, in person
    order, so the result does not depend on the number of workers. The truth (which
    screening is which person) stays in memory: it is returned, never stored.
    """
    if persons < 1:
        raise ValueError("persons must be at least 1")
    check_columns()
    started = time.perf_counter()
    directory = Directory.load(org_kinds)
    population = Population(seed, directory)
    builder = RowBuilder(keyring())
    writer = Writer()
    ids = IdAssigner(_reserve_ids())
    deferred = DeferredChecks.drop()
    truth: dict[int, int] = {}
    ranges = [
        (start, min(start + batch_persons, persons)) for start in range(0, persons, batch_persons)
    ]
    workers = default_workers(persons) if workers is None else max(1, workers)
    writing = 0.0
    for (start, stop), built in zip(
        ranges, _build_all(population, builder, ranges, workers), strict=True
    ):
        t0 = time.perf_counter()
        batch = Batch()
        for item in built:
            truth[ids.add(batch, item)] = item.person
        writer.write(batch)
        writing += time.perf_counter() - t0
        if progress is not None:
            progress(stop - start)
    _advance_sequences(ids.last_ids)
    timings = {"build+write": time.perf_counter() - started, "write": writing}

    t0 = time.perf_counter()
    report_facts.relink_all()
    timings["link"] = time.perf_counter() - t0
    if deferred.statements:
        t0 = time.perf_counter()
        deferred.restore()
        timings["index"] = time.perf_counter() - t0
    predicted: dict[int, int] = {
        sid: pid
        for sid, pid in db.session.execute(
            sa.select(ScreeningFact.screening_id, ScreeningFact.person_id).where(
                ScreeningFact.screening_id.between(min(truth, default=0), max(truth, default=0))
            )
        )
    }
    linked = {predicted[sid] for sid in truth}
    quality = exact_quality = None
    if evaluate:
        order = sorted(truth)
        true_persons = [truth[sid] for sid in order]
        quality = pairwise_quality(true_persons, [predicted[sid] for sid in order])
        exact = _exact_links(order)
        exact_quality = pairwise_quality(true_persons, [exact[sid] for sid in order])
    audit.record(
        actor,
        "synth.generate",
        details={
            "persons": persons,
            "screenings": len(truth),
            "rows": writer.rows,
            "seed": seed,
            "org_kinds": sorted(org_kinds) if org_kinds else None,
            "linked_persons": len(linked),
        },
    )
    return SynthResult(
        persons=persons,
        screenings=len(truth),
        rows=writer.rows,
        linked_persons=len(linked),
        elapsed=time.perf_counter() - started,
        truth=truth,
        quality=quality,
        exact_quality=exact_quality,
        timings=timings,
    )


def _exact_links(screening_ids: Sequence[int]) -> dict[int, int]:
    """The persons the exact keys alone give for these screenings (to show what fuzzy
    matching adds)."""
    if not screening_ids:
        return {}
    rows = db.session.execute(
        sa.select(
            ScreeningFact.screening_id,
            ScreeningFact.doc_key,
            ScreeningFact.name_dob_key,
            ScreeningFact.name_sex_key,
            ScreeningFact.birth_year,
            ScreeningFact.sex,
        ).where(ScreeningFact.screening_id.between(screening_ids[0], screening_ids[-1]))
    )
    wanted = set(screening_ids)
    return linkage.link((r[0], linkage.Pseudonyms(*r[1:])) for r in rows if r[0] in wanted)


# The forked workers find their population and builder here (set before the fork).
_WORKER_STATE: tuple[Population, RowBuilder] | None = None


def _build_range(start: int, stop: int) -> list[Built]:
    assert _WORKER_STATE is not None
    population, builder = _WORKER_STATE
    return [
        builder.build(reg) for index in range(start, stop) for reg in population.person(index)[1]
    ]


def _build_all(
    population: Population, builder: RowBuilder, ranges: Sequence[tuple[int, int]], workers: int
) -> Iterator[list[Built]]:
    """The built rows of each range, in order; with workers, a few ranges ahead."""
    global _WORKER_STATE
    _WORKER_STATE = (population, builder)
    try:
        if workers == 1:
            for start, stop in ranges:
                yield _build_range(start, stop)
            return
        # fork: the children inherit the app context (keys) and never touch the database
        context = multiprocessing.get_context("fork")
        with context.Pool(workers) as pool:
            pending: deque[Any] = deque()
            todo = iter(ranges)
            for task in itertools.islice(todo, 2 * workers):
                pending.append(pool.apply_async(_build_range, task))
            while pending:
                result = pending.popleft().get()
                following = next(todo, None)
                if following is not None:
                    pending.append(pool.apply_async(_build_range, following))
                yield result
    finally:
        _WORKER_STATE = None
