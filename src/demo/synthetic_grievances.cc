#include "demo/synthetic_grievances.h"

#include <array>
#include <span>
#include <vector>

#include "db/application_schema.h"

namespace orch {
namespace {

using Words = std::span<const std::string_view>;

// ---------------------------------------------------------------------------------------------
// Deterministic draws. std::uniform_*_distribution differs between standard libraries, so the
// draws are computed here: SplitMix64, keyed by the seed, the grievance's index and a purpose (so
// the text, the model and the reviewers draw independently of each other).

constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ULL;

uint64_t Mix(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

enum class Purpose : uint64_t { kText = 1, kModel = 2, kReview = 3 };

class Draws {
 public:
  Draws(uint64_t seed, uint64_t index, Purpose purpose)
      : state_(Mix(Mix(seed + kGolden * static_cast<uint64_t>(purpose)) ^ (index * kGolden))) {}

  uint64_t Next() {
    state_ += kGolden;
    return Mix(state_);
  }
  // Uniform in [0, 1).
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  bool Chance(double probability) { return Unit() < probability; }
  // Uniform in [0, n), n > 0.
  size_t Below(size_t n) { return static_cast<size_t>(Unit() * static_cast<double>(n)); }
  int Between(int low, int high) { return low + static_cast<int>(Below(static_cast<size_t>(high - low + 1))); }
  std::string_view Pick(Words words) { return words[Below(words.size())]; }
  // An index drawn with the given relative weights.
  size_t Weighted(std::span<const int> weights) {
    int total = 0;
    for (int weight : weights) total += weight;
    int ticket = static_cast<int>(Below(static_cast<size_t>(total)));
    for (size_t i = 0; i < weights.size(); ++i) {
      if (ticket < weights[i]) return i;
      ticket -= weights[i];
    }
    return weights.size() - 1;
  }

 private:
  uint64_t state_;
};

// ---------------------------------------------------------------------------------------------
// Vocabulary. {n} is a small number (days, weeks, months), {w} a ward number.

// Municipal Governance & Community Services: waste, permits, the ward office, registrations, taxes.
constexpr std::array<std::string_view, 11> kMunicipalEnglish = {
    "garbage has not been collected for {n} days",
    "the waste collection truck never comes to our street",
    "the ward office keeps refusing to issue my recommendation letter",
    "my building permit application has been pending for {n} weeks",
    "nobody at the ward office answers the phone",
    "the public toilet is locked and filthy",
    "stray dogs are everywhere in the market area",
    "birth registration at the ward office takes forever",
    "the municipality charged me the property tax twice",
    "a ward member is using the community hall for private events",
    "waste is being dumped illegally next to the temple",
};
constexpr std::array<std::string_view, 11> kMunicipalNepali = {
    "{n} दिनदेखि फोहोर उठाइएको छैन",         "फोहोर संकलन गर्ने गाडी हाम्रो टोलमा आउँदैन",
    "वडा कार्यालयले सिफारिस पत्र दिन मानेन",   "घर नक्सा पासको निवेदन {n} हप्तादेखि अड्किएको छ",
    "वडा कार्यालयमा कसैले फोन उठाउँदैन",        "सार्वजनिक शौचालय बन्द र फोहोर छ",
    "बजार क्षेत्रमा छाडा कुकुर धेरै छन्",          "जन्म दर्ता गर्न वडा कार्यालयमा धेरै ढिला हुन्छ",
    "नगरपालिकाले घर कर दुई पटक लियो",        "वडा सदस्यले सामुदायिक भवन निजी काममा प्रयोग गरिरहेका छन्",
    "मन्दिर नजिकै अवैध रूपमा फोहोर फालिएको छ",
};

// Education, Health & Social Welfare: schools, teachers, hospitals, allowances.
constexpr std::array<std::string_view, 11> kWelfareEnglish = {
    "there have been no teachers at the school for {n} days",
    "the school roof is leaking into the classroom",
    "the health post has no medicine",
    "the hospital refused to admit my mother",
    "the doctor at the district hospital never shows up",
    "the senior citizen allowance has not been paid for {n} months",
    "the students did not receive their scholarship",
    "the ambulance did not come when we called",
    "the children in our village have not been vaccinated",
    "the disability allowance was stopped without any reason",
    "the school is charging illegal fees",
};
constexpr std::array<std::string_view, 11> kWelfareNepali = {
    "विद्यालयमा शिक्षक छैनन्",
    "विद्यालयको छाना चुहिएर कक्षामा पानी पस्छ",
    "स्वास्थ्य चौकीमा औषधि छैन",
    "अस्पतालले मेरी आमालाई भर्ना गर्न मानेन",
    "जिल्ला अस्पतालमा डाक्टर आउँदैनन्",
    "{n} महिनादेखि जेष्ठ नागरिक भत्ता पाइएको छैन",
    "विद्यार्थीहरूले छात्रवृत्ति पाएनन्",
    "फोन गर्दा पनि एम्बुलेन्स आएन",
    "गाउँका बालबालिकालाई खोप लगाइएको छैन",
    "अपाङ्गता भत्ता बिना कारण रोकियो",
    "विद्यालयले गैरकानुनी शुल्क लिइरहेको छ",
};

// Infrastructure, Utilities & Natural Resources: roads, water, electricity, bridges, forests, rivers.
constexpr std::array<std::string_view, 12> kInfrastructureEnglish = {
    "there is a huge pothole on the main road",
    "we have had no drinking water for {n} days",
    "the power goes out every evening",
    "the streetlights have been broken for {n} weeks",
    "the bridge over the river has cracks",
    "the drain is blocked and sewage is overflowing onto the road",
    "a landslide has blocked the road",
    "an electricity pole is leaning and the wires hang low",
    "the water pipe burst and water is being wasted",
    "illegal sand mining is destroying the river bank",
    "trees in the community forest are being cut illegally",
    "the road construction was left unfinished",
};
constexpr std::array<std::string_view, 12> kInfrastructureNepali = {
    "सडकमा ठूलो खाल्डो छ",
    "{n} दिनदेखि खानेपानी आएको छैन",
    "हरेक साँझ बत्ती जान्छ",
    "{n} हप्तादेखि सडक बत्ती बिग्रेको छ",
    "खोलामाथिको पुलमा चिरा परेको छ",
    "ढल थुनिएर फोहोर पानी सडकमा बगिरहेको छ",
    "पहिरोले बाटो बन्द गरेको छ",
    "बिजुलीको पोल ढल्किएको छ र तार तल झुन्डिएको छ",
    "खानेपानीको पाइप फुटेर पानी खेर गइरहेको छ",
    "खोलामा अवैध बालुवा उत्खनन भइरहेको छ",
    "सामुदायिक वनका रुख अवैध रूपमा काटिँदैछन्",
    "सडक निर्माण अधुरै छाडिएको छ",
};

// Security & Law Enforcement: police, theft, violence, drugs, harassment.
constexpr std::array<std::string_view, 11> kSecurityEnglish = {
    "my motorbike was stolen last night",
    "there was a theft in our neighbour's house",
    "a group of young men is fighting and threatening people",
    "my neighbour beats his wife every night",
    "drugs are being sold openly near the bus park",
    "the police did not register my complaint",
    "someone is harassing girls on their way home",
    "there is illegal gambling in the tea shop",
    "the local shop was robbed",
    "a land broker is threatening my family",
    "reckless drivers race on the highway at night",
};
constexpr std::array<std::string_view, 11> kSecurityNepali = {
    "हिजो राति मेरो मोटरसाइकल चोरी भयो",
    "छिमेकीको घरमा चोरी भयो",
    "केही युवाहरू झगडा गर्दै मानिसहरूलाई धम्क्याइरहेका छन्",
    "छिमेकीले हरेक रात आफ्नी श्रीमतीलाई कुट्छ",
    "बसपार्क नजिक खुलेआम लागूऔषध बेचिन्छ",
    "प्रहरीले मेरो उजुरी दर्ता गरेन",
    "घर फर्कने बाटोमा केटीहरूलाई हैरानी गरिन्छ",
    "चिया पसलमा अवैध जुवा खेलिन्छ",
    "स्थानीय पसलमा डकैती भयो",
    "जग्गा दलालले मेरो परिवारलाई धम्की दियो",
    "राति राजमार्गमा लापरबाह चालकहरू दौड गर्छन्",
};

struct DepartmentWords {
  Words english;
  Words nepali;
  // A sentence that mentions this department's business: added to other departments' texts to
  // make them ambiguous.
  std::string_view english_aside;
  std::string_view nepali_aside;
};

// In kSchemaDepartments' order.
constexpr std::array<DepartmentWords, 4> kDepartmentWords = {{
    {kMunicipalEnglish, kMunicipalNepali, "The ward office says it is not their job.",
     "वडा कार्यालय यो हाम्रो काम होइन भन्छ।"},
    {kWelfareEnglish, kWelfareNepali, "Because of this the children cannot go to school.",
     "यसले गर्दा बालबालिका विद्यालय जान सक्दैनन्।"},
    {kInfrastructureEnglish, kInfrastructureNepali, "There is no electricity either.", "बत्ती पनि छैन।"},
    {kSecurityEnglish, kSecurityNepali, "We told the police but nothing happened.", "प्रहरीलाई भनियो तर केही भएन।"},
}};
// How often each department is the true one (kSchemaDepartments' order).
constexpr std::array<int, 4> kDepartmentWeights = {25, 20, 35, 20};

// Issues that sit between two departments: the same text is filed under either, so no classifier
// can be right about all of them.
struct BorderlineIssue {
  size_t first;
  size_t second;  // departments, as indices into kSchemaDepartments
  std::string_view english;
  std::string_view nepali;
};
constexpr std::array<BorderlineIssue, 10> kBorderlineIssues = {{
    {0, 2, "garbage is blocking the drain and the street floods", "फोहोरले ढल थुनिएर सडकमा पानी जमेको छ"},
    {0, 2, "the ward office has still not repaired the streetlights it promised",
     "वडा कार्यालयले भनेको सडक बत्ती अझै मर्मत गरेको छैन"},
    {1, 2, "the road to the school is broken and children fall every day",
     "विद्यालय जाने बाटो भत्किएर बालबालिका दिनहुँ लड्छन्"},
    {1, 2, "the hospital has had no water supply for {n} days", "{n} दिनदेखि अस्पतालमा पानी आएको छैन"},
    {3, 2, "thieves come at night because the streetlights are broken", "सडक बत्ती बिग्रेकाले राति चोर आउँछन्"},
    {3, 2, "the police do nothing about illegal sand mining in the river",
     "खोलामा अवैध बालुवा उत्खनन हुँदा पनि प्रहरीले केही गर्दैन"},
    {0, 1, "the ward office has not forwarded our allowance forms", "वडा कार्यालयले हाम्रो भत्ताको फारम अगाडि बढाएको छैन"},
    {3, 1, "boys are harassing students outside the school gate", "विद्यालयको गेट बाहिर केटाहरूले विद्यार्थीलाई हैरानी गर्छन्"},
    {0, 3, "stray dogs attacked a child in the market", "बजारमा छाडा कुकुरले बच्चालाई टोक्यो"},
    {0, 3, "a shopkeeper built on the public footpath and threatens anyone who complains",
     "एक पसलेले सार्वजनिक फुटपाथमा अवैध निर्माण गरी उजुरी गर्नेलाई धम्क्याउँछ"},
}};

// Texts that name no department at all.
constexpr std::array<std::string_view, 4> kVagueEnglish = {
    "nobody listens to our complaints", "this problem has been reported many times already",
    "the officials are not doing their job", "we are facing a big problem here"};
constexpr std::array<std::string_view, 4> kVagueNepali = {"हाम्रो उजुरी कसैले सुन्दैन", "यो समस्या धेरै पटक भनिसकियो",
                                                          "कर्मचारीहरूले काम गर्दैनन्", "यहाँ ठूलो समस्या छ"};

// Some places name another department's business (a school, the ward office): natural overlap.
constexpr std::array<std::string_view, 11> kPlacesEnglish = {"in ward {w}",
                                                             "near the bus park",
                                                             "in our tole",
                                                             "on the way to the market",
                                                             "in Baneshwor",
                                                             "near the temple",
                                                             "in our village",
                                                             "near the school",
                                                             "behind the ward office",
                                                             "along the highway",
                                                             ""};
constexpr std::array<std::string_view, 10> kPlacesNepali = {
    "वडा नं. {w} मा", "बसपार्क नजिक", "हाम्रो टोलमा",  "बजार जाने बाटोमा", "बानेश्वरमा",
    "मन्दिर नजिक",    "हाम्रो गाउँमा", "विद्यालय नजिक", "राजमार्ग छेउमा",    ""};

// Urgency cues, in kSchemaUrgencies' order.
constexpr std::array<std::string_view, 5> kNormalEnglish = {
    "Please look into it when possible.", "Kindly address this at your convenience.",
    "It is not urgent, but it should be fixed.", "Please consider this in the next plan.",
    "Requesting action when you have time."};
constexpr std::array<std::string_view, 5> kUrgentEnglish = {
    "Please fix it as soon as possible.", "This needs urgent attention.",
    "It gets worse every day, please act this week.", "Please act quickly.", "We need help soon."};
constexpr std::array<std::string_view, 5> kHighlyUrgentEnglish = {
    "Please act immediately!", "This is life threatening.", "Emergency: people could die.",
    "Someone has already been injured, send help right now.", "Danger to life, respond immediately."};
constexpr std::array<std::string_view, 4> kNormalNepali = {"सम्भव भएसम्म ध्यान दिनुहोला।", "फुर्सद मिलेको बेला हेरिदिनुहोला।",
                                                           "यो जरुरी त होइन तर मिलाइदिनुहोला।",
                                                           "कृपया आगामी योजनामा राखिदिनुहोला।"};
constexpr std::array<std::string_view, 4> kUrgentNepali = {"छिटो समाधान गरिदिनुहोस्।", "यसमा चाँडो ध्यान दिनुहोस्।",
                                                           "दिनदिनै समस्या बढ्दैछ, यसै हप्ता कारबाही गर्नुहोस्।",
                                                           "कृपया छिटो गर्नुहोस्।"};
constexpr std::array<std::string_view, 5> kHighlyUrgentNepali = {
    "तुरुन्त कारबाही गर्नुहोस्!", "ज्यान जोखिममा छ।", "आपतकालीन अवस्था हो, मानिस मर्न सक्छन्।",
    "एक जना घाइते भइसकेका छन्, अहिले नै सहयोग पठाउनुहोस्।", "तुरुन्तै आउनुहोस्, खतरा छ।"};

constexpr std::array<Words, 3> kCuesEnglish = {kNormalEnglish, kUrgentEnglish, kHighlyUrgentEnglish};
constexpr std::array<Words, 3> kCuesNepali = {kNormalNepali, kUrgentNepali, kHighlyUrgentNepali};
constexpr std::array<int, 3> kUrgencyWeights = {50, 32, 18};

// Sentence shapes: {I} the issue, {Icap} the same capitalised, {P} a place, {C} the urgency cue,
// {A} an aside about another department (usually empty), {w} a ward number.
constexpr std::array<std::string_view, 7> kTemplatesEnglish = {
    "{Icap} {P}. {A} {C}",
    "Dear sir, {I} {P}. {A} {C}",
    "{C} {Icap} {P}. {A}",
    "I want to report that {I} {P}. {A} {C}",
    "Complaint from ward {w}: {I}. {A} {C}",
    "Hello, {I} {P} and nobody has done anything. {A} {C}",
    "{Icap} {P}!! {A} {C}",
};
constexpr std::array<std::string_view, 6> kTemplatesNepali = {
    "{P} {I}। {A} {C}",        "नमस्कार, {P} {I}। {A} {C}",          "{C} {P} {I}। {A}",
    "महोदय, {P} {I}। {A} {C}", "वडा नं. {w} बाट उजुरी: {I}। {A} {C}", "{P} {I}, तर कसैले केही गरेन। {A} {C}",
};

constexpr std::array<std::string_view, 3> kUrlsEnglish = {"See the photo: https://photos.example.org/g/{id}",
                                                          "More at http://bit.ly/{id}",
                                                          "Video: www.facebook.com/watch?v={id}"};
constexpr std::array<std::string_view, 2> kUrlsNepali = {"फोटो: https://photos.example.org/g/{id}",
                                                         "भिडियो: http://bit.ly/{id}"};

// ---------------------------------------------------------------------------------------------
// Text assembly.

void ReplaceAll(std::string& text, std::string_view from, std::string_view to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

// ASCII digits as Devanagari digits (० is U+0966, three bytes in UTF-8).
std::string DevanagariDigits(const std::string& digits) {
  std::string text;
  for (char digit : digits) {
    const unsigned char offset = static_cast<unsigned char>(digit - '0');
    text += "\xE0\xA5";
    text += static_cast<char>(0xA6 + offset);
  }
  return text;
}

std::string Capitalised(std::string_view text) {
  std::string capital(text);
  if (!capital.empty() && capital[0] >= 'a' && capital[0] <= 'z') capital[0] = static_cast<char>(capital[0] - 32);
  return capital;
}

// Removes what empty slots leave behind: runs of spaces, spaces before punctuation, and spaces
// at either end. Works on UTF-8 since it only looks at ASCII bytes and the danda's sequence.
std::string Tidy(const std::string& text) {
  std::string tidy;
  for (char c : text) {
    if (c == ' ' && (tidy.empty() || tidy.back() == ' ')) continue;
    if ((c == '.' || c == '!' || c == ',' || c == ':') && !tidy.empty() && tidy.back() == ' ') tidy.pop_back();
    tidy += c;
  }
  ReplaceAll(tidy, " \xE0\xA5\xA4", "\xE0\xA5\xA4");  // " ।" (U+0964)
  while (!tidy.empty() && tidy.back() == ' ') tidy.pop_back();
  return tidy;
}

enum class Ambiguity { kNone, kNoCue, kNeighbourCue, kOtherDepartmentAside, kVague, kBorderline };
enum class Noise { kNone, kUrl, kHtml, kLineBreak, kShouting, kWhitespace };

// What goes into one text.
struct Draft {
  GrievanceLanguage language;
  size_t department;
  size_t urgency;
  Ambiguity ambiguity;
};

std::string Number(Draws& draws, GrievanceLanguage language, int low, int high) {
  const std::string digits = std::to_string(draws.Between(low, high));
  // Nepali writers mostly use Devanagari digits, but not always.
  if (language == GrievanceLanguage::kNepali && draws.Chance(0.8)) return DevanagariDigits(digits);
  return digits;
}

// One of the borderline issues `department` shares with another.
const BorderlineIssue& Borderline(Draws& draws, size_t department) {
  std::vector<const BorderlineIssue*> shared;
  for (const BorderlineIssue& issue : kBorderlineIssues)
    if (issue.first == department || issue.second == department) shared.push_back(&issue);
  return *shared[draws.Below(shared.size())];
}

std::string Issue(Draws& draws, const Draft& draft) {
  const bool english = draft.language == GrievanceLanguage::kEnglish;
  std::string issue;
  if (draft.ambiguity == Ambiguity::kVague) {
    issue = draws.Pick(english ? Words(kVagueEnglish) : Words(kVagueNepali));
  } else if (draft.ambiguity == Ambiguity::kBorderline) {
    const BorderlineIssue& borderline = Borderline(draws, draft.department);
    issue = english ? borderline.english : borderline.nepali;
  } else {
    const DepartmentWords& words = kDepartmentWords[draft.department];
    issue = draws.Pick(english ? words.english : words.nepali);
  }
  ReplaceAll(issue, "{n}", Number(draws, draft.language, 2, 15));
  return issue;
}

// A neighbouring urgency level: URGENT for either end, either end for URGENT.
size_t Neighbour(Draws& draws, size_t truth) {
  if (truth != 1) return 1;
  return draws.Chance(0.5) ? 0 : 2;
}

std::string Cue(Draws& draws, const Draft& draft) {
  const auto& cues = draft.language == GrievanceLanguage::kEnglish ? kCuesEnglish : kCuesNepali;
  switch (draft.ambiguity) {
    case Ambiguity::kNoCue: return "";
    case Ambiguity::kNeighbourCue:  // the citizen under- or overstates
      return std::string(draws.Pick(cues[Neighbour(draws, draft.urgency)]));
    default: return std::string(draws.Pick(cues[draft.urgency]));
  }
}

std::string Aside(Draws& draws, const Draft& draft) {
  if (draft.ambiguity != Ambiguity::kOtherDepartmentAside) return "";
  const size_t other = (draft.department + 1 + draws.Below(kDepartmentWords.size() - 1)) % kDepartmentWords.size();
  const DepartmentWords& words = kDepartmentWords[other];
  return std::string(draft.language == GrievanceLanguage::kEnglish ? words.english_aside : words.nepali_aside);
}

std::string Compose(Draws& draws, const Draft& draft) {
  const bool english = draft.language == GrievanceLanguage::kEnglish;
  const std::string issue = Issue(draws, draft);
  std::string text(draws.Pick(english ? Words(kTemplatesEnglish) : Words(kTemplatesNepali)));
  ReplaceAll(text, "{Icap}", Capitalised(issue));
  ReplaceAll(text, "{I}", issue);
  ReplaceAll(text, "{P}", draws.Pick(english ? Words(kPlacesEnglish) : Words(kPlacesNepali)));
  ReplaceAll(text, "{A}", Aside(draws, draft));
  ReplaceAll(text, "{C}", Cue(draws, draft));
  ReplaceAll(text, "{w}", Number(draws, draft.language, 1, 32));
  return Tidy(text);
}

std::string ShortId(Draws& draws) {
  constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string id;
  for (int i = 0; i < 7; ++i) id += kAlphabet[draws.Below(kAlphabet.size())];
  return id;
}

// Replaces the first sentence break (". ", "! " or "। ") with `separator`; appends it when there is none.
std::string BreakFirstSentence(std::string text, std::string_view separator) {
  for (std::string_view end : {". ", "! ", "\xE0\xA5\xA4 "}) {
    const size_t at = text.find(end);
    if (at == std::string::npos) continue;
    const size_t mark = end.size() - 1;  // keep the punctuation, drop the space
    text.replace(at + mark, 1, separator);
    return text;
  }
  return text + std::string(separator);
}

std::string AddNoise(Draws& draws, std::string text, Noise noise, GrievanceLanguage language) {
  const bool english = language == GrievanceLanguage::kEnglish;
  switch (noise) {
    case Noise::kUrl: {
      std::string url(draws.Pick(english ? Words(kUrlsEnglish) : Words(kUrlsNepali)));
      ReplaceAll(url, "{id}", ShortId(draws));
      return text + " " + url;
    }
    case Noise::kHtml:
      switch (draws.Below(3)) {
        case 0: return "<p>" + text + "</p>";
        case 1: return BreakFirstSentence(std::move(text), "<br>");
        default: return "<b>" + text + "</b><br/>";
      }
    case Noise::kLineBreak: return BreakFirstSentence(std::move(text), draws.Chance(0.5) ? "\n" : "\r\n");
    case Noise::kShouting:
      if (!english) return text + "!!!";
      for (char& c : text)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
      return text;
    case Noise::kWhitespace: return "  " + text + " \t";
    case Noise::kNone: break;
  }
  return text;
}

// No cue, neighbour cue, aside, vague, borderline.
constexpr std::array<int, 5> kAmbiguityWeights = {25, 20, 15, 10, 30};
constexpr std::array<int, 5> kNoiseWeights = {25, 20, 25, 15, 15};  // URL, HTML, line break, shouting, spaces

// A wrong value for a label with `count` values: any other one.
size_t AnyOther(Draws& draws, size_t truth, size_t count) { return (truth + 1 + draws.Below(count - 1)) % count; }

size_t IndexOf(std::span<const std::string_view> values, std::string_view value) {
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i] == value) return i;
  return 0;
}

}  // namespace

GrievanceGenerator::GrievanceGenerator(GrievanceOptions options) : options_(options) {}

Grievance GrievanceGenerator::At(uint64_t index) const {
  Draws draws(options_.seed, index, Purpose::kText);
  Draft draft;
  draft.language = draws.Chance(options_.nepali_share) ? GrievanceLanguage::kNepali : GrievanceLanguage::kEnglish;
  draft.department = draws.Weighted(kDepartmentWeights);
  draft.urgency = draws.Weighted(kUrgencyWeights);
  draft.ambiguity = draws.Chance(options_.ambiguous_share)
                        ? static_cast<Ambiguity>(1 + draws.Weighted(kAmbiguityWeights))
                        : Ambiguity::kNone;
  const Noise noise =
      draws.Chance(options_.noise_share) ? static_cast<Noise>(1 + draws.Weighted(kNoiseWeights)) : Noise::kNone;

  Grievance grievance;
  grievance.index = index;
  grievance.language = draft.language;
  grievance.department = std::string(kSchemaDepartments[draft.department]);
  grievance.urgency = std::string(kSchemaUrgencies[draft.urgency]);
  grievance.message = AddNoise(draws, Compose(draws, draft), noise, draft.language);
  return grievance;
}

std::vector<Grievance> GrievanceGenerator::Batch(uint64_t first, size_t count) const {
  std::vector<Grievance> batch;
  batch.reserve(count);
  for (size_t i = 0; i < count; ++i) batch.push_back(At(first + i));
  return batch;
}

WeakModel::WeakModel(WeakModelOptions options) : options_(options) {}

Prediction WeakModel::Predict(const Grievance& grievance) const {
  Draws draws(options_.seed, grievance.index, Purpose::kModel);
  const size_t department = IndexOf(kSchemaDepartments, grievance.department);
  const size_t urgency = IndexOf(kSchemaUrgencies, grievance.urgency);
  // Both draws happen whatever the outcome, so one label's rate never shifts the other's draws.
  const bool department_wrong = draws.Chance(options_.department_error_rate);
  const bool urgency_wrong = draws.Chance(options_.urgency_error_rate);
  const size_t wrong_department = AnyOther(draws, department, kSchemaDepartments.size());
  const size_t wrong_urgency = Neighbour(draws, urgency);
  return {std::string(kSchemaDepartments[department_wrong ? wrong_department : department]),
          std::string(kSchemaUrgencies[urgency_wrong ? wrong_urgency : urgency])};
}

ReviewSimulation::ReviewSimulation(ReviewOptions options) : options_(options) {}

std::optional<MisclassificationReview> ReviewSimulation::Review(const Grievance& grievance,
                                                                const Prediction& prediction) const {
  Draws draws(options_.seed, grievance.index, Purpose::kReview);
  const bool wrong = prediction.department != grievance.department || prediction.urgency != grievance.urgency;
  const double outcome = draws.Unit();
  MisclassificationReview row;
  row.predicted_department = prediction.department;
  row.predicted_urgency = prediction.urgency;
  row.reported_by_admin_id = draws.Between(1, 5);
  if (!wrong) {
    if (outcome >= options_.false_alarm_share) return std::nullopt;
    // A reviewer looked and confirmed the prediction: a row that must never count.
    row.reviewed = true;
    row.correct_department = prediction.department;
    row.correct_urgency = prediction.urgency;
    return row;
  }
  const double reviewed = options_.reviewed_share;
  const double unreviewed = reviewed + options_.unreviewed_share;
  const double uncorrected = unreviewed + options_.uncorrected_share;
  if (outcome >= uncorrected) return std::nullopt;
  row.reviewed = outcome < reviewed || outcome >= unreviewed;
  if (outcome < unreviewed) {  // reviewed and corrected, or reported with a correction not yet reviewed
    row.correct_department = grievance.department;
    row.correct_urgency = grievance.urgency;
  }
  return row;
}

}  // namespace orch
