//! The demo's world: countries with their names, cities, streets and
//! carriers, the product catalogue and the shop's warehouses. Plain data,
//! kept apart from the generator that draws from it.

pub(super) struct Country {
    pub(super) code: &'static str,
    pub(super) name: &'static str,
    pub(super) tld: &'static str,
    pub(super) currency: &'static str,
    /// Price multiplier against the catalogue's USD prices, in per cent.
    pub(super) price_pct: i64,
    pub(super) first: &'static [&'static str],
    pub(super) last: &'static [&'static str],
    pub(super) cities: &'static [(&'static str, &'static str)],
    pub(super) streets: &'static [&'static str],
    pub(super) carriers: &'static [Carrier],
    pub(super) phone_prefix: &'static str,
    /// The carriers' national sorting hub: parcels into or across the
    /// country pass through it.
    pub(super) hub: &'static str,
}

pub(super) struct Carrier {
    pub(super) name: &'static str,
    pub(super) prefix: &'static str,
    pub(super) url: &'static str,
}

pub(super) const POSTNORD: Carrier = Carrier {
    name: "PostNord",
    prefix: "UA",
    url: "https://tracking.postnord.com/se/?id=",
};
pub(super) const DHL: Carrier = Carrier {
    name: "DHL Express",
    prefix: "JD",
    url: "https://www.dhl.com/en/express/tracking.html?AWB=",
};
pub(super) const UPS: Carrier = Carrier {
    name: "UPS",
    prefix: "1Z",
    url: "https://www.ups.com/track?tracknum=",
};
pub(super) const USPS: Carrier = Carrier {
    name: "USPS",
    prefix: "94",
    url: "https://tools.usps.com/go/TrackConfirmAction?tLabels=",
};
pub(super) const ROYAL_MAIL: Carrier = Carrier {
    name: "Royal Mail",
    prefix: "RM",
    url: "https://www.royalmail.com/track-your-item#/tracking-results/",
};
pub(super) const DPD: Carrier = Carrier {
    name: "DPD",
    prefix: "05",
    url: "https://tracking.dpd.de/status/en_US/parcel/",
};
pub(super) const COLISSIMO: Carrier = Carrier {
    name: "Colissimo",
    prefix: "6A",
    url: "https://www.laposte.fr/outils/suivre-vos-envois?code=",
};

pub(super) const COUNTRIES: &[Country] = &[
    Country {
        code: "SE",
        name: "Sweden",
        tld: "se",
        currency: "SEK",
        price_pct: 1050,
        first: &[
            "Anna", "Erik", "Maja", "Lars", "Ingrid", "Björn", "Åsa", "Sofia", "Oskar", "Elin",
            "Gustav", "Linnéa",
        ],
        last: &[
            "Lindqvist",
            "Andersson",
            "Johansson",
            "Nilsson",
            "Öberg",
            "Karlsson",
            "Ström",
            "Bergström",
            "Sjöberg",
            "Åkesson",
        ],
        cities: &[
            ("Stockholm", "Stockholm"),
            ("Göteborg", "Västra Götaland"),
            ("Malmö", "Skåne"),
            ("Uppsala", "Uppsala"),
            ("Umeå", "Västerbotten"),
            ("Örebro", "Örebro"),
        ],
        streets: &[
            "Storgatan",
            "Drottninggatan",
            "Kungsgatan",
            "Sveavägen",
            "Järntorget",
        ],
        carriers: &[POSTNORD, DHL],
        phone_prefix: "+4670",
        hub: "Jönköping",
    },
    Country {
        code: "US",
        name: "United States",
        tld: "com",
        currency: "USD",
        price_pct: 100,
        first: &[
            "James", "Mary", "Olivia", "Liam", "Emma", "Noah", "Ava", "Ethan", "Mia", "Lucas",
        ],
        last: &[
            "Smith",
            "Johnson",
            "Williams",
            "Brown",
            "Garcia",
            "Miller",
            "Davis",
            "Rodriguez",
        ],
        cities: &[
            ("Portland", "Oregon"),
            ("Austin", "Texas"),
            ("Louisville", "Kentucky"),
            ("Denver", "Colorado"),
            ("Brooklyn", "New York"),
        ],
        streets: &[
            "Main Street",
            "Oak Avenue",
            "Chestnut Street",
            "Maple Drive",
        ],
        carriers: &[UPS, USPS],
        phone_prefix: "+1555",
        hub: "Louisville",
    },
    Country {
        code: "GB",
        name: "United Kingdom",
        tld: "co.uk",
        currency: "GBP",
        price_pct: 80,
        first: &[
            "Oliver", "Amelia", "George", "Isla", "Harry", "Freya", "Arthur", "Poppy",
        ],
        last: &[
            "Taylor", "Evans", "Thomas", "Roberts", "Walker", "Wright", "Hughes",
        ],
        cities: &[
            ("Manchester", "England"),
            ("Edinburgh", "Scotland"),
            ("Bristol", "England"),
            ("Cardiff", "Wales"),
        ],
        streets: &[
            "High Street",
            "Station Road",
            "Church Lane",
            "Victoria Road",
        ],
        carriers: &[ROYAL_MAIL, DPD],
        phone_prefix: "+447700",
        hub: "Coventry",
    },
    Country {
        code: "DE",
        name: "Germany",
        tld: "de",
        currency: "EUR",
        price_pct: 95,
        first: &[
            "Lukas", "Hannah", "Jürgen", "Lea", "Felix", "Käthe", "Jonas", "Mia",
        ],
        last: &[
            "Müller",
            "Schmidt",
            "Schneider",
            "Fischer",
            "Weiß",
            "Groß",
            "Köhler",
        ],
        cities: &[
            ("Berlin", "Berlin"),
            ("München", "Bayern"),
            ("Köln", "Nordrhein-Westfalen"),
            ("Hamburg", "Hamburg"),
        ],
        streets: &[
            "Hauptstraße",
            "Schillerstraße",
            "Goethestraße",
            "Bahnhofstraße",
        ],
        carriers: &[DHL, DPD],
        phone_prefix: "+49151",
        hub: "Hanover",
    },
    Country {
        code: "FR",
        name: "France",
        tld: "fr",
        currency: "EUR",
        price_pct: 95,
        first: &[
            "Léa", "Hugo", "Chloé", "Théo", "Zoé", "Gabriel", "Inès", "Raphaël",
        ],
        last: &[
            "Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Girard", "Rousseau",
        ],
        cities: &[
            ("Paris", "Île-de-France"),
            ("Lyon", "Auvergne-Rhône-Alpes"),
            ("Marseille", "Provence-Alpes-Côte d'Azur"),
            ("Nantes", "Pays de la Loire"),
        ],
        streets: &[
            "Rue de la Paix",
            "Avenue Victor Hugo",
            "Rue du Moulin",
            "Boulevard Voltaire",
        ],
        carriers: &[COLISSIMO, DPD],
        phone_prefix: "+33612",
        hub: "Roissy-en-France",
    },
];

pub(super) struct Product {
    pub(super) title: &'static str,
    pub(super) sku: &'static str,
    /// USD cents.
    pub(super) price: i64,
    pub(super) variants: &'static [&'static str],
}

pub(super) const PRODUCTS: &[Product] = &[
    Product {
        title: "Linen Shirt",
        sku: "LS",
        price: 6900,
        variants: &["S / Sand", "M / Sand", "L / Navy", "XL / Navy"],
    },
    Product {
        title: "Merino Wool Sweater",
        sku: "MWS",
        price: 11900,
        variants: &["S / Forest", "M / Oat", "L / Charcoal"],
    },
    Product {
        title: "Canvas Tote Bag",
        sku: "CTB",
        price: 3500,
        variants: &["Natural", "Black"],
    },
    Product {
        title: "Ceramic Coffee Mug",
        sku: "CCM",
        price: 2400,
        variants: &["White", "Speckled", "Midnight"],
    },
    Product {
        title: "Leather Card Holder",
        sku: "LCH",
        price: 4500,
        variants: &["Tan", "Black"],
    },
    Product {
        title: "Running Shoes",
        sku: "RUN",
        price: 12900,
        variants: &["EU 38", "EU 40", "EU 42", "EU 44"],
    },
    Product {
        title: "Organic Cotton Tee",
        sku: "OCT",
        price: 2900,
        variants: &["S / White", "M / White", "L / Black"],
    },
    Product {
        title: "Stainless Water Bottle",
        sku: "SWB",
        price: 3200,
        variants: &["500 ml", "750 ml"],
    },
    Product {
        title: "Scented Candle",
        sku: "SCN",
        price: 2800,
        variants: &["Cedar", "Fig", "Sea Salt"],
    },
    Product {
        title: "Wool Beanie",
        sku: "WBN",
        price: 3000,
        variants: &["Grey", "Mustard"],
    },
    Product {
        title: "Engraved Silver Necklace",
        sku: "ESN",
        price: 8900,
        variants: &["45 cm", "50 cm"],
    },
    Product {
        title: "Oak Cutting Board",
        sku: "OCB",
        price: 5400,
        variants: &["Small", "Large"],
    },
    Product {
        title: "Rain Jacket",
        sku: "RJK",
        price: 14900,
        variants: &["S / Olive", "M / Olive", "L / Black"],
    },
    Product {
        title: "Notebook Set",
        sku: "NBS",
        price: 1900,
        variants: &["Dotted", "Lined"],
    },
];

pub(super) const GIFT_CARD: Product = Product {
    title: "Digital Gift Card",
    sku: "GIFT",
    price: 5000,
    variants: &["50"],
};

/// Warehouses: name, city, country code.
pub(super) const LOCATIONS: &[(&str, &str, &str)] = &[
    ("Main warehouse", "Borås", "SE"),
    ("Partner warehouse", "Leipzig", "DE"),
];
