"""Word lists the generated JSONPlaceholder records draw their text from."""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# The words JSONPlaceholder's own posts are written in.
LOREM = _words(
    "a ab accusamus accusantium ad adipisci alias aliquam aliquid amet animi aperiam "
    "architecto asperiores aspernatur assumenda at atque aut autem beatae blanditiis commodi "
    "consectetur consequatur consequuntur corporis corrupti culpa cum cumque cupiditate debitis "
    "delectus deleniti deserunt dicta dignissimos distinctio dolor dolore dolorem doloremque "
    "dolores doloribus dolorum ducimus ea eaque earum eius eligendi enim eos error esse est et "
    "eum eveniet ex excepturi exercitationem expedita explicabo facere facilis fuga fugiat "
    "fugit harum hic id illo illum impedit in incidunt inventore ipsa ipsam ipsum iste itaque "
    "iure iusto labore laboriosam laborum laudantium libero magnam magni maiores maxime minima "
    "minus modi molestiae molestias mollitia nam natus necessitatibus nemo neque nesciunt nihil "
    "nisi nobis non nostrum nulla numquam occaecati odio odit officia officiis omnis optio "
    "pariatur perferendis perspiciatis placeat porro possimus praesentium provident quae "
    "quaerat quam quas quasi qui quia quibusdam quidem quis quisquam quo quod quos ratione "
    "recusandae reiciendis rem repellat repellendus reprehenderit repudiandae rerum saepe "
    "sapiente sed sequi similique sint sit soluta sunt suscipit tempora tempore temporibus "
    "tenetur totam ullam unde ut vel velit veniam veritatis vero vitae voluptas voluptate "
    "voluptatem voluptates voluptatibus voluptatum"
)

FIRST_NAMES = _words(
    "Leanne Ervin Clementine Patricia Chelsey Dennis Kurtis Nicholas Glenna Clementina "
    "Eliseo Jayne Nikita Hayden Presley Dallas Mallory Meghan Carmen Veronica Oswald Kariane "
    "Nathan Maynard Christine Preston Vincenza Madelynn Mariana Lew Telly Karley Sherwood "
    "Chaim Rey Julianne Lucio Shanna Sincere Emma Brandon Alysha Marie Rene Solon Ayana"
)

LAST_NAMES = _words(
    "Graham Howell Bauch Lebsack Dietrich Schulist Weissnat Runolfsdottir Reichert DuBuque "
    "Gardner Kuhic Garfield Mueller Kunze Littel Keeling Goodwin Vandervort Hodkiewicz Hudson "
    "Klocko Gorczany Orn Hoeger Dach Corkery Skiles Nienow McDermott Padberg OConner "
    "Hettinger Romaguera Crona Deckow Crist Jacobson Robel Considine Lockman Abernathy Yost"
)

DOMAIN_WORDS = _words(
    "april melissa yesenia kory annie jasper billy rosamond dana karina gardner sydney "
    "garfield alysha althea myrl ole marie rene caroline timmothy leanne jadyn solon roberta "
    "ayana blaise albertha darion preston hildegard anastasia ramiro kale demarco ola elvis"
)

TLDS = ("biz", "tv", "net", "org", "ca", "info", "io", "me", "com", "name", "us")

STREET_SUFFIXES = _words(
    "Light Plains Extension Mall Walks Crossing Trail Summit Park Turnpike Avenue Road Lane "
    "Court Square Street Way Drive Harbor Ridge"
)

CITY_SUFFIXES = ("haven", "view", "mouth", "bury", "ton", "side", "berg", "land", "fort")
CITY_PREFIXES = ("", "", "", "South ", "North ", "East ", "West ", "Lake ", "New ", "Port ")

COMPANY_FORMS = ("{a}-{b}", "{a} LLC", "{a} Group", "{a} and Sons", "{a}, {b} and {c}", "{a} Inc")

CATCH_ADJECTIVES = _words(
    "Multi-layered Proactive Multi-tiered User-centric Synchronised "
    "Configurable Implemented Switchable Centralized Adaptive Robust Streamlined Virtual "
    "Distributed Reactive Optional Horizontal Vertical Integrated"
)

CATCH_DESCRIPTORS = _words(
    "client-server didactic bifurcated fault-tolerant bottom-line multimedia "
    "secondary contextually-based empowering asynchronous heuristic dynamic global modular "
    "optimizing responsive stable"
)

CATCH_NOUNS = _words(
    "neural-net contingency interface productivity solution task-force concept project "
    "framework algorithm hierarchy matrix paradigm protocol throughput firmware middleware "
    "workforce database capability"
)

BS_VERBS = _words(
    "harness synergize e-enable transition revolutionize generate aggregate target "
    "integrate streamline leverage orchestrate empower deploy scale monetize"
)

BS_ADJECTIVES = _words(
    "real-time scalable strategic cutting-edge end-to-end enterprise innovative extensible "
    "B2B viral sticky distributed frictionless holistic robust seamless"
)

BS_NOUNS = _words(
    "e-markets supply-chains applications web-services systems e-tailers technologies "
    "models platforms channels communities networks paradigms portals metrics markets"
)
