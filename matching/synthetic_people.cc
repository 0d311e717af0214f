#include "matching/synthetic_people.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <string_view>
#include <vector>

#include "matching/split_mix64.h"

namespace tessera::matching {
namespace {

// SplitMix64 with the draws the generator needs.
class Random : public SplitMix64 {
 public:
  using SplitMix64::SplitMix64;
  // True with probability `p`, decided on 24 bits (exact, no rounding that differs by platform).
  bool Chance(double p) { return static_cast<double>(Next() >> 40) < p * static_cast<double>(1 << 24); }
  // An index skewed to the front, as real name frequencies are: the first entries are common.
  size_t Skewed(size_t n) {
    const size_t a = Below(n), b = Below(n);
    return std::min(a, b);
  }
};

constexpr std::string_view kFirstNames[] = {
    "James",     "Mary",      "John",     "Patricia",   "Robert",      "Jennifer", "Michael",  "Linda",
    "William",   "Elizabeth", "David",    "Barbara",    "Richard",     "Susan",    "Joseph",   "Jessica",
    "Thomas",    "Sarah",     "Charles",  "Karen",      "Christopher", "Nancy",    "Daniel",   "Lisa",
    "Matthew",   "Margaret",  "Anthony",  "Betty",      "Mark",        "Sandra",   "Donald",   "Ashley",
    "Steven",    "Dorothy",   "Paul",     "Kimberly",   "Andrew",      "Emily",    "Joshua",   "Donna",
    "Kenneth",   "Michelle",  "Kevin",    "Carol",      "Brian",       "Amanda",   "George",   "Melissa",
    "Edward",    "Deborah",   "Ronald",   "Stephanie",  "Timothy",     "Rebecca",  "Jason",    "Laura",
    "Jeffrey",   "Sharon",    "Ryan",     "Cynthia",    "Jacob",       "Kathleen", "Gary",     "Amy",
    "Nicholas",  "Shirley",   "Eric",     "Angela",     "Stephen",     "Helen",    "Jonathan", "Anna",
    "Larry",     "Brenda",    "Justin",   "Pamela",     "Scott",       "Nicole",   "Brandon",  "Samantha",
    "Frank",     "Katherine", "Benjamin", "Emma",       "Gregory",     "Ruth",     "Samuel",   "Christine",
    "Raymond",   "Catherine", "Patrick",  "Debra",      "Alexander",   "Rachel",   "Jack",     "Carolyn",
    "Dennis",    "Janet",     "Jerry",    "Virginia",   "Tyler",       "Maria",    "Aaron",    "Heather",
    "Jose",      "Diane",     "Henry",    "Julie",      "Adam",        "Joyce",    "Douglas",  "Victoria",
    "Nathan",    "Kelly",     "Peter",    "Christina",  "Zachary",     "Joan",     "Kyle",     "Evelyn",
    "Walter",    "Lauren",    "Harold",   "Judith",     "Jeremy",      "Olivia",   "Ethan",    "Frances",
    "Carl",      "Martha",    "Keith",    "Cheryl",     "Roger",       "Megan",    "Gerald",   "Andrea",
    "Christian", "Hannah",    "Terry",    "Jacqueline", "Sean",        "Ann",      "Arthur",   "Jean",
    "Austin",    "Alice",     "Noah",     "Kathryn",    "Lawrence",    "Gloria",   "Jesse",    "Teresa",
    "Joe",       "Doris",     "Bryan",    "Sara",       "Billy",       "Janice",   "Jordan",   "Julia",
    "Albert",    "Marie",     "Dylan",    "Madison",    "Bruce",       "Grace",    "Willie",   "Judy",
    "Gabriel",   "Theresa",   "Alan",     "Beverly",    "Juan",        "Denise",   "Logan",    "Marilyn",
    "Wayne",     "Amber",     "Ralph",    "Danielle",   "Roy",         "Abigail",  "Eugene",   "Brittany",
    "Randy",     "Rose",      "Vincent",  "Diana",      "Russell",     "Natalie",  "Louis",    "Sophia",
    "Philip",    "Alexis",    "Bobby",    "Lori",       "Johnny",      "Kayla",    "Bradley",  "Jane",
    "Oliver",    "Isla",      "Freya",    "Callum",     "Niamh",       "Ciaran",   "Siobhan",  "Rhys",
    "Carys",     "Dafydd",    "Eilidh",   "Fraser",     "Ailsa",       "Hamish",   "Morag",    "Priya",
    "Arjun",     "Aisha",     "Omar",     "Fatima",     "Yusuf",       "Zainab",   "Mohammed", "Leila",
    "Tariq",
};

constexpr std::string_view kSurnames[] = {
    "Smith",      "Jones",      "Williams",   "Taylor",    "Brown",     "Davies",      "Evans",
    "Wilson",     "Thomas",     "Johnson",    "Roberts",   "Robinson",  "Thompson",    "Wright",
    "Walker",     "White",      "Edwards",    "Hughes",    "Green",     "Hall",        "Lewis",
    "Harris",     "Clarke",     "Patel",      "Jackson",   "Wood",      "Turner",      "Martin",
    "Cooper",     "Hill",       "Ward",       "Morris",    "Moore",     "Clark",       "Lee",
    "King",       "Baker",      "Harrison",   "Morgan",    "Allen",     "James",       "Scott",
    "Phillips",   "Watson",     "Davis",      "Parker",    "Price",     "Bennett",     "Young",
    "Griffiths",  "Mitchell",   "Kelly",      "Cook",      "Carter",    "Richardson",  "Bailey",
    "Collins",    "Bell",       "Shaw",       "Murphy",    "Miller",    "Cox",         "Richards",
    "Khan",       "Marshall",   "Anderson",   "Simpson",   "Ellis",     "Adams",       "Singh",
    "Begum",      "Wilkinson",  "Foster",     "Chapman",   "Powell",    "Webb",        "Rogers",
    "Gray",       "Mason",      "Ali",        "Hunt",      "Hussain",   "Campbell",    "Matthews",
    "Owen",       "Palmer",     "Holmes",     "Mills",     "Barnes",    "Knight",      "Lloyd",
    "Butler",     "Russell",    "Barker",     "Fisher",    "Stevens",   "Jenkins",     "Murray",
    "Dixon",      "Harvey",     "Graham",     "Pearson",   "Ahmed",     "Fletcher",    "Walsh",
    "Kaur",       "Gibson",     "Howard",     "Andrews",   "Stewart",   "Elliott",     "Reynolds",
    "Saunders",   "Payne",      "Fox",        "Ford",      "Pearce",    "Day",         "Brooks",
    "West",       "Lawrence",   "Cole",       "Atkinson",  "Bradley",   "Spencer",     "Gill",
    "Dawson",     "Ball",       "Burton",     "O'Brien",   "Watts",     "Rose",        "Booth",
    "Perry",      "Ryan",       "Grant",      "Wells",     "Armstrong", "Francis",     "Rees",
    "Hayes",      "Hart",       "Hudson",     "Newman",    "Barrett",   "Webster",     "Hunter",
    "Gregory",    "Carr",       "Lowe",       "Page",      "Marsh",     "Riley",       "Dunn",
    "Woods",      "Parsons",    "Berry",      "Stone",     "Reid",      "Holland",     "Hawkins",
    "Harding",    "Porter",     "Robertson",  "Newton",    "Oliver",    "Reed",        "Kennedy",
    "Williamson", "Bird",       "Gardner",    "Shah",      "Dean",      "Lane",        "Cooke",
    "Bates",      "Henderson",  "Parry",      "Burgess",   "Bishop",    "Walton",      "Burns",
    "Nicholson",  "Shepherd",   "Ross",       "Cross",     "Long",      "Freeman",     "Warren",
    "Nicholls",   "Hamilton",   "Byrne",      "Sutton",    "McDonald",  "Yates",       "Hodgson",
    "Robson",     "Curtis",     "Hopkins",    "O'Connor",  "Harper",    "Coleman",     "Watkins",
    "Moss",       "McCarthy",   "Chambers",   "O'Neill",   "Griffin",   "Sharp",       "Hardy",
    "Wheeler",    "Potter",     "Osborne",    "Johnston",  "Gordon",    "Doyle",       "Wallace",
    "George",     "Jordan",     "Hutchinson", "Rowe",      "Burke",     "May",         "Pritchard",
    "Gilbert",    "Willis",     "Higgins",    "Read",      "Miles",     "Stevenson",   "Stephenson",
    "Hammond",    "Arnold",     "Buckley",    "Walters",   "Hewitt",    "Barber",      "Nelson",
    "Slater",     "Austin",     "Sullivan",   "Whitehead", "Mann",      "Frost",       "Lambert",
    "Stephens",   "Blake",      "Akhtar",     "Lynch",     "Goodwin",   "Barton",      "Woodward",
    "Thomson",    "Cunningham", "Quinn",      "Barnett",   "Baxter",    "Bibi",        "Clayton",
    "Nash",       "Greenwood",  "Jennings",   "Holt",      "Kemp",      "Poole",       "Gallagher",
    "Bond",       "Stokes",     "Tucker",     "Davidson",  "Fowler",    "Heath",       "Norman",
    "Middleton",  "Lees",       "Banks",      "French",    "Jarvis",    "Zylberstein",
};

// The long tail of rarer surnames: a stem and an ending (Ashford, Dunmore, Fairwell, ...).
constexpr std::string_view kSurnameStems[] = {
    "Ash",   "Brad",  "Car",  "Dun",  "El",  "Fair",  "Gold", "Hart", "Ing", "Kings", "Lang", "Mar",
    "North", "Oak",   "Pen",  "Red",  "Sal", "Thorn", "Up",   "Wen",  "Wor", "Black", "Cran", "Dray",
    "Edge",  "Frank", "Glen", "Holm", "Kel", "Lind",  "Mill", "Ned",  "Ock", "Pres",  "Rad",  "Stan",
};
constexpr std::string_view kSurnameEndings[] = {"ford", "ley",  "ton",   "well",  "wood", "by",    "field",
                                                "ham",  "more", "stone", "worth", "bury", "croft", "dale"};

struct KoreanName {
  std::string_view hangul;
  std::array<std::string_view, 3> latin;  // three romanizations, the first the most common
};

constexpr KoreanName kKoreanSurnames[] = {
    {"김", {"Kim", "KIM", "Gim"}},      {"이", {"Lee", "Yi", "Rhee"}},
    {"박", {"Park", "Pak", "Bak"}},     {"최", {"Choi", "Choe", "Chey"}},
    {"정", {"Jung", "Jeong", "Chung"}}, {"강", {"Kang", "Gang", "Kang"}},
    {"조", {"Cho", "Jo", "Joh"}},       {"윤", {"Yoon", "Yun", "Youn"}},
    {"장", {"Jang", "Chang", "Jang"}},  {"임", {"Lim", "Im", "Rim"}},
    {"한", {"Han", "Hahn", "Han"}},     {"오", {"Oh", "O", "Oh"}},
    {"서", {"Seo", "Suh", "Seo"}},      {"신", {"Shin", "Sin", "Shin"}},
    {"권", {"Kwon", "Gwon", "Kwon"}},   {"황", {"Hwang", "Hwang", "Whang"}},
    {"안", {"Ahn", "An", "Ahn"}},       {"송", {"Song", "Song", "Soung"}},
    {"류", {"Ryu", "Yoo", "Yu"}},       {"홍", {"Hong", "Hong", "Houng"}},
};

constexpr KoreanName kKoreanGivenNames[] = {
    {"민준", {"Min-jun", "Minjun", "Min Jun"}},   {"서연", {"Seo-yeon", "Seoyeon", "Seo Yeon"}},
    {"지호", {"Ji-ho", "Jiho", "Ji Ho"}},         {"하은", {"Ha-eun", "Haeun", "Ha Eun"}},
    {"도윤", {"Do-yun", "Doyun", "Do Yoon"}},     {"서윤", {"Seo-yun", "Seoyun", "Seo Yoon"}},
    {"시우", {"Si-woo", "Siwoo", "Si U"}},        {"지우", {"Ji-woo", "Jiwoo", "Ji U"}},
    {"예준", {"Ye-jun", "Yejun", "Ye Jun"}},      {"민서", {"Min-seo", "Minseo", "Min Seo"}},
    {"주원", {"Ju-won", "Juwon", "Joo Won"}},     {"하준", {"Ha-jun", "Hajun", "Ha Joon"}},
    {"지민", {"Ji-min", "Jimin", "Ji Min"}},      {"수아", {"Su-a", "Sua", "Soo Ah"}},
    {"준서", {"Jun-seo", "Junseo", "Joon Seo"}},  {"지유", {"Ji-yu", "Jiyu", "Ji Yoo"}},
    {"건우", {"Geon-woo", "Geonwoo", "Gun Woo"}}, {"채원", {"Chae-won", "Chaewon", "Chae Won"}},
    {"현우", {"Hyun-woo", "Hyunwoo", "Hyeon U"}}, {"지아", {"Ji-a", "Jia", "Ji Ah"}},
    {"우진", {"Woo-jin", "Woojin", "U Jin"}},     {"서현", {"Seo-hyun", "Seohyun", "Seo Hyeon"}},
    {"민재", {"Min-jae", "Minjae", "Min Jae"}},   {"다은", {"Da-eun", "Daeun", "Da Eun"}},
    {"은우", {"Eun-woo", "Eunwoo", "Eun U"}},     {"예은", {"Ye-eun", "Yeeun", "Ye Eun"}},
    {"선우", {"Sun-woo", "Sunwoo", "Seon U"}},    {"수빈", {"Su-bin", "Subin", "Soo Bin"}},
    {"연우", {"Yeon-woo", "Yeonwoo", "Yeon U"}},  {"소윤", {"So-yun", "Soyun", "So Yoon"}},
};

struct City {
  std::string_view name;
  std::string_view local_name;     // the same city in its own script, or "" (Latin only)
  std::string_view postcode_area;  // UK postcode area; "" for a five-digit Korean postcode
};

constexpr City kUkCities[] = {
    {"London", "", "N"},         {"Birmingham", "", "B"},  {"Manchester", "", "M"},
    {"Leeds", "", "LS"},         {"Glasgow", "", "G"},     {"Sheffield", "", "S"},
    {"Bradford", "", "BD"},      {"Liverpool", "", "L"},   {"Edinburgh", "", "EH"},
    {"Bristol", "", "BS"},       {"Cardiff", "", "CF"},    {"Leicester", "", "LE"},
    {"Coventry", "", "CV"},      {"Nottingham", "", "NG"}, {"Newcastle", "", "NE"},
    {"Belfast", "", "BT"},       {"Brighton", "", "BN"},   {"Hull", "", "HU"},
    {"Plymouth", "", "PL"},      {"Stoke", "", "ST"},      {"Wolverhampton", "", "WV"},
    {"Derby", "", "DE"},         {"Swansea", "", "SA"},    {"Southampton", "", "SO"},
    {"Salford", "", "M"},        {"Aberdeen", "", "AB"},   {"Westminster", "", "SW"},
    {"Portsmouth", "", "PO"},    {"York", "", "YO"},       {"Peterborough", "", "PE"},
    {"Dundee", "", "DD"},        {"Lancaster", "", "LA"},  {"Oxford", "", "OX"},
    {"Cambridge", "", "CB"},     {"Norwich", "", "NR"},    {"Exeter", "", "EX"},
    {"Bath", "", "BA"},          {"Chester", "", "CH"},    {"Durham", "", "DH"},
    {"Inverness", "", "IV"},     {"Reading", "", "RG"},    {"Luton", "", "LU"},
    {"Milton Keynes", "", "MK"}, {"Preston", "", "PR"},    {"Sunderland", "", "SR"},
    {"Bolton", "", "BL"},        {"Ipswich", "", "IP"},    {"Carlisle", "", "CA"},
};

constexpr City kKoreanCities[] = {
    {"Seoul", "서울", ""},   {"Busan", "부산", ""},   {"Incheon", "인천", ""}, {"Daegu", "대구", ""},
    {"Daejeon", "대전", ""}, {"Gwangju", "광주", ""}, {"Suwon", "수원", ""},   {"Ulsan", "울산", ""},
};

constexpr std::string_view kMailDomains[] = {"gmail.com",      "yahoo.co.uk", "hotmail.com", "outlook.com",
                                             "btinternet.com", "icloud.com",  "sky.com",     "example.org"};
constexpr std::string_view kKoreanMailDomains[] = {"naver.com", "daum.net", "gmail.com", "kakao.com"};

template <typename T, size_t N>
const T& Pick(Random& random, const T (&list)[N]) {
  return list[random.Below(N)];
}

// One person as the truth has them; records are written from this with mistakes.
struct Person {
  bool korean = false;
  size_t given = 0, family = 0;  // indexes into the Korean lists when korean
  std::string first, surname;    // Latin spellings of Western people (stems included)
  int year = 0, month = 0, day = 0;
  std::string email;
  size_t city = 0;
  std::string postcode;
  bool has_dob = true, has_email = true, has_city = true, has_postcode = true;
};

std::string Digits(int value, int width) {
  char text[16];
  std::snprintf(text, sizeof text, "%0*d", width, value);
  return text;
}

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string Upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

bool IsAscii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// One typing mistake in an ASCII value: a letter replaced, dropped, doubled, or swapped with the
// next. Text in other scripts is left alone.
std::string Typo(Random& random, std::string value) {
  if (value.size() < 3 || !IsAscii(value)) return value;
  const size_t at = 1 + random.Below(value.size() - 2);  // the first letter is rarely wrong
  const char letter = static_cast<char>('a' + random.Below(26));
  switch (random.Below(4)) {
    case 0:
      value[at] = value[at] >= 'A' && value[at] <= 'Z' ? static_cast<char>(letter - 'a' + 'A') : letter;
      break;
    case 1:
      value.erase(at, 1);
      break;
    case 2:
      value.insert(at, 1, value[at]);
      break;
    default:
      std::swap(value[at], value[at + 1 < value.size() ? at + 1 : at - 1]);
      break;
  }
  return value;
}

std::string NewEmail(Random& random, const Person& person) {
  const std::string first = Lower(person.korean ? kKoreanGivenNames[person.given].latin[1] : person.first);
  const std::string family = Lower(person.korean ? kKoreanSurnames[person.family].latin[0] : person.surname);
  std::string user;
  switch (random.Below(4)) {
    case 0:
      user = first + "." + family;
      break;
    case 1:
      user = first.substr(0, 1) + family;
      break;
    case 2:
      user = first + family.substr(0, 1) + Digits(static_cast<int>(random.Below(100)), 2);
      break;
    default:
      user = family + Digits(person.year % 100, 2);
      break;
  }
  std::erase_if(user, [](char c) { return c == '\'' || c == ' ' || c == '-'; });
  const std::string_view domain =
      person.korean ? Pick(random, kKoreanMailDomains) : Pick(random, kMailDomains);
  return user + "@" + std::string(domain);
}

std::string NewPostcode(Random& random, const City& city) {
  if (city.postcode_area.empty()) return Digits(static_cast<int>(10000 + random.Below(50000)), 5);
  static constexpr std::string_view kUnitLetters = "ABDEFGHJLNPQRSTUWXYZ";
  std::string postcode = std::string(city.postcode_area) + std::to_string(1 + random.Below(20)) + " " +
                         std::to_string(random.Below(10));
  postcode += kUnitLetters[random.Below(6)];
  postcode += kUnitLetters[random.Below(kUnitLetters.size())];
  return postcode;
}

const City& CityOf(const Person& person) {
  return person.korean ? kKoreanCities[person.city % std::size(kKoreanCities)] : kUkCities[person.city];
}

void MoveHouse(Random& random, Person& person) {
  person.city = person.korean ? random.Below(std::size(kKoreanCities)) : random.Skewed(std::size(kUkCities));
  person.postcode = NewPostcode(random, CityOf(person));
}

Person NewPerson(Random& random, double korean_share) {
  Person person;
  person.korean = random.Chance(korean_share);
  if (person.korean) {
    person.given = random.Below(std::size(kKoreanGivenNames));
    person.family = random.Skewed(std::size(kKoreanSurnames));
  } else {
    person.first = kFirstNames[random.Skewed(std::size(kFirstNames))];
    if (random.Chance(0.3)) {
      person.surname = std::string(Pick(random, kSurnameStems)) + std::string(Pick(random, kSurnameEndings));
    } else {
      person.surname = kSurnames[random.Skewed(std::size(kSurnames))];
    }
  }
  person.year = 1940 + static_cast<int>(random.Below(66));
  person.month = 1 + static_cast<int>(random.Below(12));
  person.day =
      1 + static_cast<int>(random.Below(static_cast<size_t>(DaysInMonth(person.year, person.month))));
  person.has_dob = random.Chance(0.95);
  MoveHouse(random, person);
  person.email = NewEmail(random, person);
  person.has_email = random.Chance(0.8);
  person.has_city = random.Chance(0.92);
  person.has_postcode = random.Chance(0.85);
  return person;
}

std::string DateText(Random& random, int year, int month, int day) {
  switch (random.Below(10)) {
    case 0:
    case 1:
    case 2:
      return Digits(day, 2) + "/" + Digits(month, 2) + "/" + Digits(year, 4);
    case 3:
    case 4:
      return Digits(year, 4) + Digits(month, 2) + Digits(day, 2);
    default:
      return Digits(year, 4) + "-" + Digits(month, 2) + "-" + Digits(day, 2);
  }
}

// The date of birth as one record has it: mostly right, sometimes with day and month swapped, a
// digit mistyped or the year off by one.
std::string DobText(Random& random, const Person& person, bool copy) {
  int year = person.year, month = person.month, day = person.day;
  if (copy) {
    if (!random.Chance(0.93)) return "";
    const size_t mistake = random.Below(100);
    if (mistake < 6 && day <= 12) {
      std::swap(day, month);
    } else if (mistake < 12) {
      const int digit = static_cast<int>(random.Below(10));
      if (random.Chance(0.5)) {
        day = std::clamp(day / 10 * 10 + digit, 1, DaysInMonth(year, month));
      } else {
        year = year / 10 * 10 + digit;
      }
    } else if (mistake < 15) {
      year += random.Chance(0.5) ? 1 : -1;
      day = std::min(day, DaysInMonth(year, month));
    }
  }
  return DateText(random, year, month, day);
}

std::string Quoted(const std::string& value) {
  if (value.find_first_of(",\"") == std::string::npos) return value;
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// One row of `person`; copies (`copy`) carry mistakes, the first record only missing values.
std::string Row(Random& random, const Person& person, bool copy) {
  std::string first, surname, city;
  const City& home = CityOf(person);
  if (person.korean) {
    const bool hangul = random.Chance(0.35);
    const KoreanName& given = kKoreanGivenNames[person.given];
    const KoreanName& family = kKoreanSurnames[person.family];
    const size_t spelling = random.Chance(0.6) ? 0 : random.Below(3);
    first = std::string(hangul ? given.hangul : given.latin[spelling]);
    surname = std::string(hangul ? family.hangul : family.latin[random.Chance(0.7) ? 0 : random.Below(3)]);
    city = std::string(hangul && random.Chance(0.7) ? home.local_name : home.name);
  } else {
    first = person.first;
    surname = person.surname;
    city = std::string(home.name);
  }
  std::string email = person.has_email ? person.email : "";
  std::string postcode = person.has_postcode ? person.postcode : "";
  if (!person.has_city) city.clear();
  if (copy) {
    if (random.Chance(0.12)) first = Typo(random, first);
    if (random.Chance(0.12)) surname = Typo(random, surname);
    if (random.Chance(0.03)) std::swap(first, surname);
    if (random.Chance(0.04)) first.clear();
    if (random.Chance(0.02)) surname.clear();
    const size_t mail = random.Below(100);
    if (mail < 15) {
      email.clear();
    } else if (mail < 27) {
      email = NewEmail(random, person);  // a second address
    } else if (mail < 33 && !email.empty()) {
      email = Typo(random, email);
    } else if (!person.has_email && mail < 60) {
      email = person.email;  // given this time
    }
    if (random.Chance(0.08)) city.clear();
    if (random.Chance(0.05)) city = Typo(random, city);
    if (random.Chance(0.1)) postcode.clear();
    if (random.Chance(0.04) && !postcode.empty()) postcode = Typo(random, postcode);
  }
  std::string dob = person.has_dob || copy ? DobText(random, person, copy) : "";
  if (random.Chance(0.08)) {
    first = Upper(first);
    surname = Upper(surname);
    city = Upper(city);
  }
  return Quoted(first) + "," + Quoted(surname) + "," + dob + "," + Quoted(email) + "," + Quoted(city) + "," +
         Quoted(postcode);
}

}  // namespace

SyntheticPeople GenerateSyntheticPeople(const SyntheticPeopleOptions& options) {
  Random random(options.seed);
  struct Record {
    std::string row;
    size_t person;
  };
  std::vector<Record> records;
  records.reserve(options.records);
  SyntheticPeople result;
  while (records.size() < options.records) {
    Person person = NewPerson(random, options.korean_share);
    // Copies per person: 1 (55%), 2 (25%), 3 (12%), 4 (5%), 5 (3%).
    const size_t draw = random.Below(100);
    size_t copies = draw < 55 ? 1 : draw < 80 ? 2 : draw < 92 ? 3 : draw < 97 ? 4 : 5;
    copies = std::min(copies, options.records - records.size());
    const size_t id = result.people++;
    for (size_t k = 0; k < copies; ++k) {
      if (k > 0 && random.Chance(0.07)) MoveHouse(random, person);
      records.push_back({Row(random, person, /*copy=*/k > 0), id});
    }
    result.true_pairs += copies * (copies - 1) / 2;
  }
  // Copies of one person are not next to each other in a real file.
  for (size_t i = records.size(); i > 1; --i) std::swap(records[i - 1], records[random.Below(i)]);
  result.csv = "id,first_name,surname,dob,email,city,postcode,cluster\n";
  result.csv.reserve(records.size() * 80);
  for (size_t i = 0; i < records.size(); ++i) {
    result.csv += "r" + Digits(static_cast<int>(i + 1), 6) + "," + records[i].row + ",p" +
                  Digits(static_cast<int>(records[i].person + 1), 6) + "\n";
  }
  return result;
}

}  // namespace tessera::matching
