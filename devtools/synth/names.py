"""Synthetic data: name pools (Peruvian, Venezuelan and invented Andean and Spanish names,
Zipf-weighted)."""

from __future__ import annotations

import functools
import random
from collections.abc import Mapping, Sequence

from devtools.synth.distributions import Weighted, _zipf, seeded

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
