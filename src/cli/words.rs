//! Word lists for `beebeta generate`: a realistic vocabulary for synthetic questions, so that
//! full-text search over generated data has common and rare words to find.
//!
//! Each list is ordered roughly from the most to the least common: the generator draws rank `r`
//! with a weight of about `1/r` (a Zipf law), so the first words of a list are frequent and most
//! words are rare. Words hold only ASCII letters, digits and spaces (they are formatted into
//! SQL); general words are lowercase, proper nouns (places, Mars, Linux) keep their capitals and
//! the acronyms are uppercase. No list repeats a word (see the tests).

/// A group of nouns on one subject, with how a title names one of them ("a food", "a sport").
#[derive(Debug, Clone, Copy)]
pub struct NounCategory {
    /// The singular name of one item of the group, for titles like "What is the best food ...".
    pub name: &'static str,
    /// The nouns, most common first.
    pub words: &'static [&'static str],
}

/// Things people hold opinions on, by subject (the subjects' lists follow).
pub const NOUNS: &[NounCategory] = &[
    NounCategory {
        name: "food",
        words: FOODS,
    },
    NounCategory {
        name: "sport",
        words: SPORTS,
    },
    NounCategory {
        name: "piece of technology",
        words: TECHNOLOGY,
    },
    NounCategory {
        name: "hobby",
        words: HOBBIES,
    },
    NounCategory {
        name: "policy",
        words: POLITICS,
    },
    NounCategory {
        name: "part of working life",
        words: WORK,
    },
    NounCategory {
        name: "way to get around",
        words: TRANSPORT,
    },
    NounCategory {
        name: "animal",
        words: ANIMALS,
    },
    NounCategory {
        name: "kind of music",
        words: MUSIC,
    },
    NounCategory {
        name: "thing to watch or read",
        words: SCREEN,
    },
    NounCategory {
        name: "science topic",
        words: SCIENCE,
    },
    NounCategory {
        name: "health habit",
        words: HEALTH,
    },
    NounCategory {
        name: "part of school",
        words: EDUCATION,
    },
    NounCategory {
        name: "thing at home",
        words: HOME,
    },
    NounCategory {
        name: "fashion item",
        words: FASHION,
    },
    NounCategory {
        name: "part of nature",
        words: NATURE,
    },
    NounCategory {
        name: "travel experience",
        words: TRAVEL,
    },
];

/// Foods, dishes and drinks.
#[rustfmt::skip]
pub const FOODS: &[&str] = &[
    "pizza", "coffee", "chocolate", "sushi", "pasta", "burgers", "tea", "ice cream", "cheese",
    "bread", "rice", "tacos", "salad", "soup", "steak", "chicken", "bacon", "eggs", "pancakes",
    "waffles", "croissants", "bagels", "donuts", "cake", "cookies", "pie", "popcorn", "fries",
    "noodles", "ramen", "curry", "dumplings", "kebabs", "falafel", "hummus", "avocado toast",
    "tofu", "lentils", "beans", "chickpeas", "quinoa", "oatmeal", "cereal", "granola", "yogurt",
    "butter", "olive oil", "garlic", "onions", "tomatoes", "potatoes", "carrots", "broccoli",
    "spinach", "kale", "mushrooms", "peppers", "cucumbers", "lettuce", "sweetcorn", "peas",
    "apples", "bananas", "oranges", "strawberries", "blueberries", "grapes", "mangoes", "pineapple",
    "watermelon", "lemons", "cherries", "peaches", "pears", "kiwis", "coconut", "peanut butter",
    "jam", "honey", "maple syrup", "ketchup", "mustard", "mayonnaise", "hot sauce", "salsa",
    "guacamole", "nachos", "burritos", "lasagna", "risotto", "paella", "pho", "pad thai",
    "fried rice", "spring rolls", "hot dogs", "sandwiches", "wraps", "sausages", "salmon", "tuna",
    "shrimp", "lobster", "oysters", "crab", "sardines", "lamb", "pork", "beef", "turkey",
    "meatballs", "brownies", "cupcakes", "cheesecake", "tiramisu", "gelato", "sorbet", "milkshakes",
    "smoothies", "orange juice", "lemonade", "soda", "sparkling water", "green tea", "espresso",
    "cappuccino", "latte", "hot chocolate", "beer", "wine", "cider", "whisky", "cocktails",
    "kombucha", "energy drinks", "breakfast", "brunch", "lunch", "dinner", "snacks", "street food",
    "fast food", "vegan food", "barbecue", "fondue", "tempeh", "bubble tea", "kimchi", "miso soup",
    "dim sum", "baguettes", "pretzels", "churros", "crepes", "porridge", "muesli", "toast",
    "marmalade", "tapas", "pesto", "feta", "mozzarella", "cheddar", "goat cheese", "dark chocolate",
    "candy", "chewing gum", "licorice", "marshmallows",
];

/// Sports, games and big events.
#[rustfmt::skip]
pub const SPORTS: &[&str] = &[
    "football", "basketball", "tennis", "golf", "cricket", "rugby", "baseball", "hockey",
    "volleyball", "badminton", "table tennis", "swimming", "running", "cycling", "marathons",
    "boxing", "wrestling", "judo", "karate", "fencing", "rowing", "sailing", "surfing", "skiing",
    "snowboarding", "skateboarding", "climbing", "bouldering", "hiking", "yoga", "pilates",
    "gymnastics", "athletics", "handball", "water polo", "lacrosse", "darts", "snooker", "bowling",
    "chess", "esports", "Formula One", "motorsport", "horse racing", "triathlons", "weightlifting",
    "crossfit", "archery", "curling", "figure skating", "diving", "kayaking", "canoeing",
    "softball", "squash", "padel", "pickleball", "ultimate frisbee", "parkour", "mountain biking",
    "trail running", "the Olympics", "the World Cup", "the Super Bowl", "sumo", "netball",
    "dodgeball", "billiards", "ice skating", "water skiing", "kitesurfing", "paragliding",
    "skydiving", "bungee jumping", "rock climbing", "martial arts", "kickboxing", "taekwondo",
    "cheerleading", "fantasy football", "penalty shootouts", "video referees", "sports betting",
];

/// Technology, the internet and gadgets.
#[rustfmt::skip]
pub const TECHNOLOGY: &[&str] = &[
    "smartphones", "laptops", "tablets", "smartwatches", "headphones", "earbuds", "social media",
    "artificial intelligence", "chatbots", "robots", "drones", "electric cars", "self driving cars",
    "video games", "game consoles", "streaming services", "podcasts", "apps", "email",
    "cloud storage", "passwords", "password managers", "encryption", "cryptocurrency", "bitcoin",
    "blockchain", "smart homes", "smart speakers", "voice assistants", "virtual reality",
    "augmented reality", "the internet", "wifi", "broadband", "satellites", "rockets",
    "3d printing", "wearables", "fitness trackers", "ebooks", "open source", "Linux", "Windows",
    "Android", "iPhones", "web browsers", "search engines", "online shopping", "online banking",
    "mobile payments", "contactless payments", "qr codes", "cameras", "printers", "keyboards",
    "computer mice", "monitors", "gaming computers", "graphics cards", "microchips",
    "semiconductors", "batteries", "chargers", "usb cables", "data centers", "supercomputers",
    "quantum computers", "programming", "coding", "spreadsheets", "video calls", "group chats",
    "emojis", "memes", "influencers", "online dating", "dating apps", "ride sharing",
    "food delivery apps", "smart glasses", "robot vacuums", "facial recognition",
    "fingerprint scanners", "cybersecurity", "hackers", "spam", "online ads", "tracking cookies",
    "algorithms", "machine learning", "large language models", "self checkouts", "automation",
    "tech giants", "gadgets", "typewriters", "landlines", "fax machines", "pagers", "flip phones",
    "mechanical keyboards", "Rust", "Python", "JavaScript", "Java", "dark mode", "notifications",
    "touchscreens", "folding phones", "software updates", "operating systems", "websites", "wikis",
    "forums", "video platforms", "screenshots", "selfie sticks", "power banks",
];

/// Hobbies and pastimes.
#[rustfmt::skip]
pub const HOBBIES: &[&str] = &[
    "gardening", "knitting", "painting", "drawing", "photography", "reading", "writing", "poetry",
    "journaling", "cooking", "baking", "fishing", "hunting", "camping", "birdwatching",
    "stamp collecting", "coin collecting", "board games", "card games", "crosswords", "sudoku",
    "jigsaw puzzles", "Lego", "model trains", "woodworking", "pottery", "sewing", "embroidery",
    "crochet", "calligraphy", "origami", "scrapbooking", "dancing", "singing", "magic tricks",
    "stargazing", "metal detecting", "geocaching", "beekeeping", "home brewing", "wine tasting",
    "bonsai", "volunteering", "genealogy", "learning languages", "podcasting", "blogging",
    "vlogging", "cosplay", "comic books", "anime", "manga", "tabletop games", "role playing games",
    "escape rooms", "trivia nights", "thrift shopping", "antiques", "juggling", "kite flying",
    "rock collecting", "sketching", "candle making", "soap making", "fermenting", "foraging",
    "van life", "road trips", "backpacking", "people watching", "model building", "quilting",
    "puzzle boxes", "speed cubing", "drone racing", "amateur radio", "tarot cards", "astrology",
    "fan conventions",
];

/// Politics, laws and society.
#[rustfmt::skip]
pub const POLITICS: &[&str] = &[
    "taxes", "elections", "voting", "democracy", "monarchy", "immigration", "healthcare",
    "minimum wage", "universal basic income", "pensions", "housing", "rent control", "free speech",
    "censorship", "gun control", "climate policy", "carbon taxes", "term limits", "referendums",
    "lobbying", "campaign finance", "the death penalty", "prison reform", "police funding",
    "drug policy", "legal cannabis", "gambling", "tobacco", "sugar taxes", "plastic bags",
    "plastic straws", "daylight saving time", "the voting age", "compulsory voting",
    "online voting", "jury duty", "military service", "national service", "foreign aid", "tariffs",
    "free trade", "sanctions", "trade unions", "strikes", "protests", "petitions", "inflation",
    "interest rates", "national debt", "wealth taxes", "inheritance tax", "property taxes",
    "tax cuts", "subsidies", "welfare", "child care", "parental leave", "paid sick leave",
    "school meals", "tuition fees", "student loans", "affordable housing", "homelessness",
    "zoning laws", "speed limits", "congestion charges", "toll roads", "smoking bans",
    "alcohol laws", "privacy laws", "data protection", "net neutrality", "copyright", "patents",
    "antitrust laws", "big tech", "social security", "public broadcasting", "lotteries",
    "the royal family", "political parties", "coalitions", "opinion polls", "fake news",
    "misinformation", "fact checking", "press freedom", "local councils", "mayors", "senators",
    "parliament", "human rights", "animal rights", "equal pay", "free healthcare",
    "public libraries", "border controls", "citizenship", "dual citizenship",
    "space exploration funding", "defence spending", "nuclear weapons", "peace talks", "diplomacy",
    "the United Nations", "the European Union", "Brexit", "globalization", "tax havens",
];

/// Work, careers and money.
#[rustfmt::skip]
pub const WORK: &[&str] = &[
    "remote work", "office work", "hybrid work", "four day weeks", "overtime", "meetings",
    "open offices", "cubicles", "standing desks", "dress codes", "job interviews", "resumes",
    "salaries", "bonuses", "pay raises", "promotions", "internships", "unpaid internships",
    "side hustles", "freelancing", "gig work", "startups", "layoffs", "retirement",
    "early retirement", "savings", "budgets", "credit cards", "cash", "debit cards", "mortgages",
    "renting", "investing", "stocks", "index funds", "real estate", "gold", "bonds", "insurance",
    "loans", "banks", "tipping", "coworking spaces", "team building", "performance reviews",
    "deadlines", "work emails", "to do lists", "productivity apps", "lunch breaks", "coffee breaks",
    "night shifts", "part time jobs", "career changes", "networking", "mentors", "managers",
    "bosses", "coworkers", "job titles", "pay transparency", "signing bonuses", "stock options",
    "office parties", "casual Fridays", "hot desking", "business travel", "conferences",
    "presentations", "slide decks", "unemployment", "job security", "small businesses",
    "corporations", "entrepreneurs", "self employment", "wages", "commissions", "job applications",
    "cover letters", "references", "sabbaticals", "flexible hours", "office snacks", "company cars",
    "employee discounts", "dress down days", "annual leave", "shift work", "time tracking",
];

/// Transport and getting around.
#[rustfmt::skip]
pub const TRANSPORT: &[&str] = &[
    "trains", "buses", "trams", "subways", "bikes", "cars", "trucks", "motorcycles", "scooters",
    "electric scooters", "electric bikes", "taxis", "ferries", "planes", "flights", "airports",
    "high speed rail", "night trains", "cable cars", "car sharing", "carpooling", "walking",
    "cycle lanes", "parking", "traffic", "roundabouts", "highways", "speed cameras", "petrol",
    "diesel", "hydrogen cars", "hybrid cars", "pickup trucks", "minivans", "convertibles",
    "public transport", "free public transport", "commuting", "driving tests", "cruise ships",
    "sailboats", "helicopters", "hot air balloons", "jet skis", "skateboards", "camper vans",
    "economy class", "business class", "window seats", "aisle seats", "layovers", "jet lag",
    "train stations", "bus stops", "pedestrian zones", "car free days", "rush hour", "monorails",
    "gondolas", "rickshaws", "tuk tuks", "sleeper trains", "private jets", "seaplanes",
    "bike sharing", "park and ride", "parking fines",
];

/// Animals and pets.
#[rustfmt::skip]
pub const ANIMALS: &[&str] = &[
    "cats", "dogs", "horses", "rabbits", "hamsters", "guinea pigs", "parrots", "goldfish",
    "turtles", "snakes", "lizards", "spiders", "bees", "butterflies", "ants", "mosquitoes", "wasps",
    "pigeons", "crows", "owls", "eagles", "penguins", "dolphins", "whales", "sharks", "octopuses",
    "jellyfish", "seals", "otters", "beavers", "foxes", "wolves", "bears", "pandas", "koalas",
    "kangaroos", "lions", "tigers", "leopards", "cheetahs", "elephants", "giraffes", "zebras",
    "hippos", "rhinos", "gorillas", "chimpanzees", "monkeys", "sloths", "raccoons", "squirrels",
    "hedgehogs", "bats", "deer", "moose", "camels", "llamas", "alpacas", "cows", "pigs", "sheep",
    "goats", "chickens", "ducks", "geese", "swans", "frogs", "crocodiles", "alligators",
    "flamingos", "peacocks", "hummingbirds", "seagulls", "rats", "mice", "ferrets", "chinchillas",
    "axolotls", "capybaras", "red pandas", "polar bears", "orcas", "manatees", "puffins", "snails",
    "worms", "ladybugs", "dragonflies", "fireflies", "hawks", "vultures", "bison", "hyenas",
    "meerkats", "armadillos", "platypuses", "tortoises", "donkeys", "reindeer", "walruses",
    "starfish", "seahorses", "cockroaches",
];

/// Music, instruments and listening.
#[rustfmt::skip]
pub const MUSIC: &[&str] = &[
    "jazz", "rock", "pop music", "hip hop", "rap", "classical music", "country music", "blues",
    "reggae", "heavy metal", "punk", "techno", "house music", "folk music", "opera", "musicals",
    "K pop", "indie music", "soul", "funk", "disco", "gospel", "electronic music", "lo fi",
    "ambient music", "film scores", "guitars", "pianos", "violins", "drums", "bass guitars",
    "saxophones", "trumpets", "flutes", "ukuleles", "harmonicas", "synthesizers", "cellos",
    "accordions", "bagpipes", "choirs", "orchestras", "bands", "solo artists", "concerts",
    "music festivals", "live music", "vinyl records", "cassettes", "cds", "playlists",
    "music videos", "album covers", "lyrics", "karaoke", "ringtones", "radio", "jingles", "remixes",
    "cover songs", "autotune", "boy bands", "girl groups", "dj sets", "busking", "music lessons",
    "national anthems", "lullabies", "sea shanties", "brass bands", "string quartets",
    "music streaming", "headphone concerts",
];

/// Films, television and books.
#[rustfmt::skip]
pub const SCREEN: &[&str] = &[
    "movies", "documentaries", "cartoons", "animated films", "horror movies", "comedies",
    "romantic comedies", "action movies", "thrillers", "westerns", "science fiction",
    "fantasy novels", "superhero movies", "sequels", "remakes", "trilogies", "cinemas",
    "drive in cinemas", "film festivals", "reality tv", "sitcoms", "soap operas", "game shows",
    "talk shows", "news channels", "true crime", "period dramas", "mini series", "binge watching",
    "subtitles", "dubbing", "spoilers", "trailers", "movie theaters", "novels", "audiobooks",
    "graphic novels", "short stories", "biographies", "memoirs", "crime novels", "mysteries",
    "self help books", "cookbooks", "bestsellers", "book clubs", "libraries", "bookstores",
    "paperbacks", "hardcovers", "magazines", "newspapers", "video essays", "award shows",
    "film critics", "celebrities", "red carpets", "fan fiction", "black and white films",
    "silent films", "cooking shows", "nature shows", "quiz shows", "late night tv",
    "box office hits", "extended editions", "book reviews", "poetry readings",
];

/// Science and space.
#[rustfmt::skip]
pub const SCIENCE: &[&str] = &[
    "physics", "chemistry", "biology", "astronomy", "mathematics", "geology", "genetics",
    "evolution", "black holes", "dark matter", "the Big Bang", "Mars", "moon landings",
    "exoplanets", "asteroids", "comets", "telescopes", "space stations", "space tourism",
    "vaccines", "antibiotics", "gene editing", "cloning", "stem cells", "nanotechnology",
    "fusion power", "particle physics", "quantum physics", "climate science", "oceanography",
    "neuroscience", "psychology", "sociology", "economics", "philosophy", "archaeology",
    "dinosaurs", "fossils", "volcanoes", "earthquakes", "tsunamis", "hurricanes", "tornadoes",
    "lightning", "rainbows", "eclipses", "meteor showers", "northern lights", "microbes",
    "bacteria", "viruses", "genetic testing", "lab grown meat", "brain implants", "time travel",
    "aliens", "UFO sightings", "parallel universes", "wormholes", "gravity", "relativity",
    "the periodic table", "experiments", "peer review", "science fairs", "planetariums",
    "microscopes", "laboratories", "citizen science", "carbon capture", "geoengineering",
    "desalination", "superconductors", "Mars colonies", "the solar system", "Jupiter", "Saturn",
    "Pluto", "the Milky Way", "supernovas", "robotics", "space junk", "statistics",
];

/// Health, fitness and wellbeing.
#[rustfmt::skip]
pub const HEALTH: &[&str] = &[
    "sleep", "exercise", "diets", "vegetarianism", "veganism", "keto", "intermittent fasting",
    "vitamins", "supplements", "protein shakes", "gyms", "personal trainers", "running shoes",
    "step counts", "mental health", "therapy", "stress", "burnout", "anxiety", "mindfulness",
    "meditation", "hospitals", "doctors", "nurses", "dentists", "flu shots", "allergies",
    "hay fever", "headaches", "back pain", "posture", "screen time", "blue light", "sunscreen",
    "tanning", "cold showers", "saunas", "ice baths", "massages", "acupuncture", "homeopathy",
    "herbal remedies", "sugar", "salt", "caffeine", "alcohol", "smoking", "vaping",
    "sleep trackers", "hydration", "ergonomic chairs", "spas", "calorie counting", "weight loss",
    "flossing", "braces", "glasses", "contact lenses", "laser eye surgery", "hearing aids",
    "telemedicine", "health insurance", "first aid", "blood donation", "organ donation", "naps",
    "power naps", "stretching", "push ups", "walking pads", "breathing exercises", "digital detox",
    "gratitude journals", "cold plunges", "sleep schedules",
];

/// Schools, universities and learning.
#[rustfmt::skip]
pub const EDUCATION: &[&str] = &[
    "homework", "exams", "school uniforms", "private schools", "public schools", "homeschooling",
    "online courses", "universities", "gap years", "summer schools", "boarding schools",
    "kindergartens", "tutoring", "textbooks", "calculators", "handwriting", "cursive writing",
    "spelling tests", "grades", "report cards", "school holidays", "longer school days",
    "field trips", "recess", "sports day", "science classes", "history lessons", "art classes",
    "music classes", "foreign languages", "Latin", "coding classes", "sex education",
    "financial literacy", "group projects", "lectures", "seminars", "study groups", "all nighters",
    "online exams", "open book exams", "teachers", "class sizes", "standardized tests",
    "scholarships", "phd programs", "vocational training", "apprenticeships", "student housing",
    "campus life", "graduation ceremonies", "school start times", "class trips", "pop quizzes",
    "essay writing", "public speaking", "debate clubs", "spelling bees", "school libraries",
];

/// Home, household and daily life.
#[rustfmt::skip]
pub const HOME: &[&str] = &[
    "houseplants", "cleaning", "laundry", "ironing", "dishwashers", "washing machines",
    "air fryers", "microwaves", "slow cookers", "coffee machines", "kettles", "toasters",
    "blenders", "fridges", "freezers", "ovens", "gas stoves", "induction hobs", "carpets",
    "wooden floors", "curtains", "blinds", "sofas", "bean bags", "bunk beds",
    "memory foam mattresses", "pillows", "duvets", "electric blankets", "air conditioning",
    "heat pumps", "central heating", "fireplaces", "candles", "minimalism", "tiny houses",
    "apartments", "suburbs", "city living", "gardens", "balconies", "backyards", "swimming pools",
    "hot tubs", "garages", "attics", "basements", "home offices", "open plan kitchens",
    "smart locks", "video doorbells", "neighbours", "roommates", "moving house", "interior design",
    "wallpaper", "house parties", "dinner parties", "sleepovers", "chores", "pocket money",
    "family dinners", "bedtime stories", "alarm clocks", "bathroom scales", "rugs", "bookshelves",
    "hammocks", "lawn mowers", "garden gnomes", "doormats",
];

/// Fashion, clothing and looks.
#[rustfmt::skip]
pub const FASHION: &[&str] = &[
    "sneakers", "high heels", "boots", "sandals", "flip flops", "socks", "hats", "baseball caps",
    "scarves", "gloves", "jeans", "leggings", "suits", "ties", "dresses", "skirts", "shorts",
    "hoodies", "sweaters", "t shirts", "pajamas", "uniforms", "tattoos", "piercings", "jewelry",
    "wristwatches", "sunglasses", "handbags", "backpacks", "umbrellas", "raincoats", "fast fashion",
    "vintage clothes", "second hand clothes", "designer brands", "makeup", "perfume", "beards",
    "moustaches", "hair dye", "long hair", "short hair", "nail polish", "fashion weeks", "bow ties",
    "crocs", "cargo pants", "bucket hats", "tracksuits", "onesies", "cufflinks", "wigs",
];

/// Nature, weather and the environment.
#[rustfmt::skip]
pub const NATURE: &[&str] = &[
    "climate change", "recycling", "composting", "plastic waste", "single use plastics",
    "renewable energy", "solar power", "wind power", "wind turbines", "solar panels",
    "nuclear power", "hydropower", "geothermal energy", "coal", "oil", "natural gas", "fracking",
    "carbon offsets", "deforestation", "reforestation", "tree planting", "national parks",
    "wildlife reserves", "zoos", "aquariums", "beaches", "mountains", "forests", "lakes", "rivers",
    "oceans", "deserts", "islands", "glaciers", "rainforests", "coral reefs", "wetlands", "meadows",
    "wildflowers", "air pollution", "light pollution", "noise pollution", "water shortages",
    "droughts", "floods", "heatwaves", "wildfires", "snow", "rain", "sunshine", "autumn", "winter",
    "springtime", "summer", "fog", "thunderstorms", "weather forecasts", "sunsets", "sunrises",
    "waterfalls", "caves", "cliffs", "sand dunes", "hot springs", "the Arctic", "the Amazon",
];

/// Travel, culture and going out.
#[rustfmt::skip]
pub const TRAVEL: &[&str] = &[
    "holidays", "vacations", "beach holidays", "city breaks", "cruises", "all inclusive resorts",
    "hostels", "hotels", "glamping", "holiday rentals", "souvenirs", "postcards", "guidebooks",
    "travel insurance", "passports", "visas", "tourist traps", "museums", "art galleries",
    "theme parks", "water parks", "festivals", "carnivals", "fireworks", "street markets",
    "flea markets", "Christmas markets", "theatres", "ballet", "stand up comedy", "circuses",
    "magic shows", "sculptures", "street art", "graffiti", "modern art", "architecture",
    "skyscrapers", "castles", "cathedrals", "monuments", "statues", "public squares", "city parks",
    "fountains", "bridges", "lighthouses", "tour guides", "selfies", "night markets", "food tours",
    "walking tours", "ski resorts", "roadside diners", "rooftop bars", "nightclubs", "pubs",
    "cafes", "food trucks", "wine bars", "karaoke bars", "comedy clubs", "escape games",
];

/// Adjectives, most common first.
#[rustfmt::skip]
pub const ADJECTIVES: &[&str] = &[
    "good", "bad", "new", "old", "big", "small", "cheap", "expensive", "healthy", "modern",
    "traditional", "local", "popular", "underrated", "overrated", "boring", "exciting", "fun",
    "safe", "dangerous", "easy", "difficult", "fast", "slow", "quiet", "loud", "clean", "dirty",
    "hot", "cold", "warm", "cool", "fresh", "frozen", "organic", "natural", "artificial", "digital",
    "analog", "electric", "manual", "automatic", "public", "private", "free", "paid", "young",
    "ancient", "classic", "vintage", "trendy", "fashionable", "weird", "strange", "normal",
    "simple", "complex", "smart", "clever", "silly", "serious", "funny", "sad", "happy", "angry",
    "calm", "relaxing", "stressful", "tiring", "useful", "useless", "essential", "optional",
    "important", "pointless", "fair", "unfair", "legal", "illegal", "ethical", "sustainable",
    "green", "wasteful", "efficient", "reliable", "affordable", "luxurious", "premium", "basic",
    "fancy", "plain", "spicy", "sweet", "sour", "bitter", "salty", "crunchy", "soft", "hard",
    "heavy", "light", "bright", "dark", "colorful", "beautiful", "ugly", "pretty", "elegant",
    "comfortable", "uncomfortable", "cozy", "noisy", "crowded", "empty", "busy", "lazy", "active",
    "rural", "urban", "suburban", "coastal", "tropical", "northern", "southern", "eastern",
    "western", "national", "international", "regional", "seasonal", "daily", "weekly", "monthly",
    "yearly", "online", "offline", "remote", "nearby", "distant", "famous", "unknown", "rare",
    "common", "ordinary", "unusual", "creative", "innovative", "outdated", "futuristic", "risky",
    "secure", "honest", "realistic", "optimistic", "pessimistic", "controversial", "divisive",
    "mainstream", "niche", "independent", "homemade", "handmade", "mass produced", "imported",
    "domestic", "wild", "tame", "friendly", "hostile", "polite", "rude", "generous", "strict",
    "flexible", "rigid", "open", "closed", "loyal", "curious", "brave", "nervous", "confident",
    "shy", "social", "lonely", "peaceful", "violent", "chaotic", "organized", "messy", "tidy",
    "minimal", "huge", "tiny", "giant", "miniature", "long", "short", "tall", "wide", "narrow",
    "deep", "shallow", "thick", "thin", "smooth", "rough", "sharp", "dull", "shiny", "rusty",
    "golden", "wooden", "plastic", "solar", "nuclear", "medical", "financial", "political",
    "cultural", "historical", "scientific", "technical", "musical", "athletic", "academic",
    "professional", "amateur", "casual", "formal", "informal", "official", "unofficial",
    "mandatory", "voluntary", "temporary", "permanent", "instant", "raw", "cooked", "grilled",
    "fried", "baked", "roasted", "steamed", "vegan", "vegetarian", "gluten free", "sugar free",
    "low carb", "decaf", "iced", "sparkling", "fizzy", "creamy", "cheesy", "juicy", "greasy",
    "savory", "bland", "delicious", "disgusting", "tasty", "rich", "poor", "wealthy", "overpriced",
    "budget", "high end", "low cost", "family friendly", "kid friendly", "pet friendly",
    "eco friendly", "user friendly", "wireless", "portable", "foldable", "waterproof", "durable",
    "fragile", "silent", "smelly", "fragrant", "fluffy", "cute", "scary", "creepy", "spooky",
    "magical", "epic", "legendary", "iconic", "nostalgic", "retro", "edgy", "quirky", "wholesome",
    "cheerful", "gloomy", "sunny", "rainy", "windy", "snowy", "foggy", "stormy", "humid", "dry",
    "wet", "frosty", "addictive", "harmless", "toxic", "lucky", "unlucky", "proud", "humble",
    "ambitious", "practical", "sensible", "absurd", "ridiculous", "brilliant", "awful", "terrible",
    "amazing", "fantastic", "decent", "mediocre", "average", "awkward", "charming", "annoying",
    "adorable", "bizarre", "clumsy", "elderly", "teenage", "sleepy", "hungry", "thirsty",
    "crispy", "chewy", "tender", "bold", "subtle", "vivid", "pale", "fake", "genuine", "authentic",
    "secret", "hidden", "viral", "trending",
];

/// Verbs in the base form, most common first.
#[rustfmt::skip]
pub const VERBS: &[&str] = &[
    "eat", "drink", "buy", "sell", "try", "ban", "support", "avoid", "recommend", "learn", "teach",
    "watch", "play", "read", "write", "visit", "build", "fix", "share", "rent", "own", "borrow",
    "lend", "cook", "bake", "grow", "plant", "use", "replace", "ditch", "quit", "start", "stop",
    "love", "hate", "trust", "fear", "miss", "need", "want", "skip", "choose", "collect", "clean",
    "wash", "wear", "carry", "drive", "ride", "fly", "walk", "run", "swim", "climb", "travel",
    "pay for", "tax", "regulate", "subsidize", "protect", "save", "invest in", "donate", "recycle",
    "reuse", "repair", "upgrade", "download", "stream", "post", "follow", "unfollow", "block",
    "report", "review", "rate", "rank", "debate", "discuss", "explain", "ignore", "celebrate",
    "remember", "forget", "photograph", "film", "paint", "draw", "sing", "dance", "practice",
    "study", "research", "test", "measure", "compare", "mix", "blend", "fry", "grill", "roast",
    "boil", "freeze", "heat", "order", "deliver", "ship", "pack", "organize", "plan", "schedule",
    "cancel", "book", "reserve", "insure", "join", "leave", "adopt", "feed", "pet", "train",
    "rescue", "hunt", "fish", "catch", "hide", "find", "lose", "win", "gamble", "elect", "legalize",
    "abolish", "privatize", "nationalize", "fund", "cut", "raise", "lower", "increase", "reduce",
    "limit", "allow", "forbid", "require", "encourage", "discourage", "promote", "advertise",
    "boycott", "protest", "defend", "criticize", "praise", "judge", "forgive", "tolerate", "enjoy",
    "dislike", "prefer", "crave", "smell", "taste", "hear", "notice", "imagine", "invent", "design",
    "code", "hack", "automate", "print", "charge", "unplug", "install", "delete", "update", "sort",
    "label", "store", "gift", "wrap", "decorate", "renovate", "vacuum", "iron", "fold", "sew",
    "knit", "brew", "ferment", "pickle", "slice", "chop", "peel", "split", "tip", "negotiate",
    "hire", "fire", "interview", "manage", "lead", "mentor", "coach", "sponsor", "host", "attend",
    "binge", "rewatch", "reread", "replay", "spoil", "quote", "translate", "memorize", "sketch",
    "sculpt", "compose", "perform", "record", "edit", "publish", "look for", "wait for",
    "complain about", "argue about", "talk about", "vote for", "sign up for", "give up",
    "switch to", "bet on", "queue for", "splurge on", "cut back on", "stock up on",
];

/// Places: countries, regions and cities.
#[rustfmt::skip]
pub const PLACES: &[&str] = &[
    "London", "Paris", "Berlin", "Madrid", "Rome", "New York", "Tokyo", "France", "Germany",
    "Spain", "Italy", "Japan", "Canada", "Australia", "Brazil", "Mexico", "India", "China",
    "America", "Europe", "Asia", "Africa", "Lisbon", "Dublin", "Amsterdam", "Brussels", "Vienna",
    "Prague", "Budapest", "Warsaw", "Stockholm", "Oslo", "Copenhagen", "Helsinki", "Reykjavik",
    "Athens", "Istanbul", "Moscow", "Kyiv", "Los Angeles", "Chicago", "San Francisco", "Seattle",
    "Boston", "Miami", "Austin", "Toronto", "Vancouver", "Montreal", "Mexico City", "Sao Paulo",
    "Rio", "Buenos Aires", "Lima", "Bogota", "Osaka", "Kyoto", "Seoul", "Beijing", "Shanghai",
    "Hong Kong", "Mumbai", "Delhi", "Bangalore", "Bangkok", "Jakarta", "Manila", "Hanoi", "Sydney",
    "Melbourne", "Auckland", "Cairo", "Lagos", "Nairobi", "Cape Town", "Dubai", "Tel Aviv",
    "Barcelona", "Milan", "Naples", "Venice", "Florence", "Munich", "Hamburg", "Zurich", "Geneva",
    "Lyon", "Marseille", "Edinburgh", "Glasgow", "Manchester", "Liverpool", "Birmingham", "Bristol",
    "Oxford", "Cambridge", "Rotterdam", "Antwerp", "Porto", "Seville", "Valencia", "Krakow",
    "Bucharest", "Sofia", "Belgrade", "Zagreb", "Tallinn", "Riga", "Vilnius", "Las Vegas",
    "Nashville", "New Orleans", "Denver", "Portland", "Atlanta", "Detroit", "Philadelphia",
    "Washington", "Texas", "California", "Florida", "Alaska", "Hawaii", "Ontario", "Quebec",
    "Bavaria", "Tuscany", "Provence", "Sicily", "Bali", "Portugal", "Ireland", "Britain", "England",
    "Scotland", "Wales", "Belgium", "Switzerland", "Austria", "Sweden", "Norway", "Denmark",
    "Finland", "Iceland", "Poland", "Czechia", "Hungary", "Greece", "Romania", "Bulgaria",
    "Croatia", "Serbia", "Slovenia", "Slovakia", "Estonia", "Latvia", "Lithuania", "Ukraine",
    "Russia", "Argentina", "Chile", "Peru", "Colombia", "Venezuela", "Cuba", "Jamaica",
    "South Korea", "North Korea", "Vietnam", "Thailand", "Indonesia", "Malaysia", "Singapore",
    "New Zealand", "Egypt", "Morocco", "Nigeria", "Kenya", "Ethiopia", "Ghana", "South Africa",
    "Tanzania", "Israel", "Iran", "Saudi Arabia", "Qatar", "Pakistan", "Bangladesh", "Nepal",
    "Sri Lanka", "Mongolia", "Kazakhstan", "Taiwan", "Luxembourg", "Monaco", "Malta", "Cyprus",
    "Scandinavia", "Latin America", "Siberia", "Patagonia", "the Alps", "the Sahara",
    "the Caribbean", "the Balkans", "the Baltics", "Brooklyn", "Manhattan", "Berkeley",
    "Silicon Valley", "Hollywood", "Bordeaux", "Cologne", "Frankfurt", "Stuttgart", "Dresden",
    "Leipzig", "Salzburg", "Innsbruck", "Bergen", "Gothenburg", "Malmo", "Aarhus", "Turku",
    "Gdansk", "Ljubljana", "Sarajevo", "Tbilisi", "Yerevan", "Baku", "Almaty", "Tashkent", "Dhaka",
    "Kathmandu", "Colombo", "Karachi", "Lahore", "Doha", "Riyadh", "Amman", "Beirut", "Tunis",
    "Algiers", "Casablanca", "Marrakesh", "Accra", "Dakar", "Addis Ababa", "Kampala", "Kigali",
    "Lusaka", "Harare", "Johannesburg", "Durban", "Perth", "Brisbane", "Adelaide", "Wellington",
    "Honolulu", "Anchorage", "Havana", "Kingston", "Panama", "Quito", "Santiago", "Montevideo",
    "La Paz", "Cusco", "Medellin", "Cancun", "Guadalajara", "Calgary", "Ottawa", "Halifax",
    "Winnipeg",
];

/// Organisations, as the uppercase acronyms titles use (the EU, the WHO, ...).
#[rustfmt::skip]
pub const ORGANIZATIONS: &[&str] = &[
    "EU", "UN", "UK", "US", "WHO", "NATO", "IMF", "WTO", "OECD", "FIFA", "UEFA", "IOC", "NBA",
    "NFL", "MLB", "NHL", "NASA", "ESA", "FDA", "EPA", "FCC", "FTC", "SEC", "NHS", "BBC", "CNN",
    "G7", "G20", "ECB", "FBI", "UNESCO", "OPEC", "ICC", "WWF", "IRS", "DMV",
];

/// Short uppercase words for things (AI, TV, 5G, ...): they put short words in titles.
#[rustfmt::skip]
pub const ACRONYMS: &[&str] = &[
    "AI", "TV", "5G", "VR", "EV", "AR", "GPS", "DNA", "USB", "LED", "PC", "CEO", "DIY", "NFT",
    "VPN", "SMS", "PDF", "SUV", "UFO", "GMO", "BBQ", "IVF", "MRI", "ATM", "API", "IT", "HR", "PR",
    "IQ", "GDP", "CPU", "GPU", "RAM", "SSD", "QR", "ADHD", "MBA", "BMX", "MMA", "F1", "3D", "4K",
    "HD", "OLED", "UBI", "CBD", "4G", "SPF", "LGBTQ", "ESG", "VAT", "ID", "ER", "ICU", "CCTV",
    "NGO", "SAT", "GPA", "HIIT",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn lists() -> Vec<(&'static str, &'static [&'static str])> {
        let mut all: Vec<(&str, &[&str])> = NOUNS.iter().map(|c| (c.name, c.words)).collect();
        all.extend([
            ("adjectives", ADJECTIVES),
            ("verbs", VERBS),
            ("places", PLACES),
            ("organizations", ORGANIZATIONS),
            ("acronyms", ACRONYMS),
        ]);
        all
    }

    fn assert_distinct(what: &str, words: &[&str]) {
        let mut seen = std::collections::HashSet::new();
        for w in words {
            assert!(seen.insert(w.to_lowercase()), "{what}: `{w}` appears twice");
        }
    }

    #[test]
    fn words_are_plain_and_distinct() {
        for (what, words) in lists() {
            assert!(words.len() >= 10, "{what}: too few words");
            assert_distinct(what, words);
            for w in words {
                assert!(
                    !w.is_empty()
                        && w.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ')
                        && !w.starts_with(' ')
                        && !w.ends_with(' ')
                        && !w.contains("  "),
                    "{what}: `{w}` has characters other than [A-Za-z0-9 ] or stray spaces"
                );
            }
        }
        // The nouns are also drawn as one list: no word in two subjects.
        let nouns: Vec<&str> = NOUNS.iter().flat_map(|c| c.words.iter().copied()).collect();
        assert_distinct("nouns", &nouns);
    }

    #[test]
    fn acronyms_are_short_and_uppercase() {
        for w in ORGANIZATIONS.iter().chain(ACRONYMS) {
            assert!(w.len() <= 6, "`{w}` is long");
            assert!(
                !w.chars().any(|c| c.is_ascii_lowercase()),
                "`{w}` is not uppercase"
            );
        }
    }

    #[test]
    fn general_words_are_lowercase() {
        // Capitals only in proper nouns: places, and a few nouns (Mars, Linux, the Olympics).
        for w in ADJECTIVES.iter().chain(VERBS) {
            assert_eq!(w.to_lowercase(), *w);
        }
        let capitalised = NOUNS
            .iter()
            .flat_map(|c| c.words.iter())
            .filter(|w| w.to_lowercase() != **w)
            .count();
        assert!(capitalised < 50, "{capitalised} capitalised nouns");
    }
}
