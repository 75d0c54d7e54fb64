/// Query sets compiled into perwatt, generated deterministically: the same queries, in the same
/// order, on every machine and every version that keeps the set's hash. Each states what it measures.
///
/// The generator draws with `SplitMix64` and its own modulo (not the standard library's
/// `random(in:)`, whose algorithm is not promised to stay the same), so a set's text depends only on
/// this file.
package enum BuiltinQuerySets {
    package static let names = ["arithmetic", "units", "knowledge"]

    package static func named(_ name: String) -> QuerySet? {
        switch name {
        case "arithmetic": return arithmetic
        case "units": return units
        case "knowledge": return knowledge
        default: return nil
        }
    }

    package static var all: [QuerySet] { names.compactMap(named) }

    /// A deterministic draw in 0..<n (the modulo bias, under 2⁻⁵⁰ here, does not matter for a test set).
    private static func draw(_ n: Int, _ generator: inout SplitMix64) -> Int { Int(generator.next() % UInt64(n)) }

    private static func finish(_ name: String, _ about: String, _ queries: [QuerySet.Query], maxTokens: Int) -> QuerySet
    {
        let text = QuerySet.jsonLines(queries)
        return QuerySet(
            name: "builtin:\(name)", about: about, queries: queries, defaultMaxTokens: maxTokens,
            sha256: SHA256.hex(text))
    }

    /// 100 integer sums, differences and products of 2- and 3-digit numbers, graded numerically
    /// (exact). Measures exact arithmetic from the weights alone: no tools, no chain of thought asked.
    package static let arithmetic: QuerySet = {
        var generator = SplitMix64(seed: 0xA217_4E71)
        var queries: [QuerySet.Query] = []
        for index in 0..<100 {
            let a: Int
            let b: Int
            let symbol: String
            let result: Int
            switch index % 3 {
            case 0:
                a = 10 + draw(990, &generator)
                b = 10 + draw(990, &generator)
                symbol = "+"
                result = a + b
            case 1:
                a = 100 + draw(900, &generator)
                b = 10 + draw(a - 10, &generator)
                symbol = "-"
                result = a - b
            default:
                a = 2 + draw(98, &generator)
                b = 2 + draw(98, &generator)
                symbol = "*"
                result = a * b
            }
            queries.append(
                .init(
                    id: "arithmetic/\(index)", prompt: "What is \(a) \(symbol) \(b)? Reply with the number only.",
                    expected: String(result), grader: Grader(kind: .numeric)))
        }
        return finish(
            "arithmetic", "exact integer arithmetic (+, -, *) on 2- and 3-digit numbers, from the weights alone",
            queries, maxTokens: 16)
    }()

    /// 60 unit conversions with exact factors (SI prefixes, time, temperature, and the defined
    /// inch, mile and pound), graded numerically within 1%. Measures recall of conversion factors and
    /// the arithmetic to apply them.
    package static let units: QuerySet = {
        struct Conversion {
            package var key, from, to: String
            package var convert: (Double) -> Double
            package var values: [Double]
        }
        let conversions = [
            Conversion(
                key: "km-m", from: "kilometers", to: "meters", convert: { $0 * 1000 }, values: [2, 3.5, 7, 12, 40]),
            Conversion(
                key: "m-cm", from: "meters", to: "centimeters", convert: { $0 * 100 }, values: [1.5, 4, 9, 25, 60]),
            Conversion(
                key: "kg-g", from: "kilograms", to: "grams", convert: { $0 * 1000 }, values: [0.5, 2, 6, 15, 80]),
            Conversion(key: "h-min", from: "hours", to: "minutes", convert: { $0 * 60 }, values: [2, 3, 5, 8, 24]),
            Conversion(
                key: "min-s", from: "minutes", to: "seconds", convert: { $0 * 60 }, values: [4, 10, 15, 45, 90]),
            Conversion(key: "d-h", from: "days", to: "hours", convert: { $0 * 24 }, values: [2, 3, 7, 10, 30]),
            Conversion(
                key: "l-ml", from: "liters", to: "milliliters", convert: { $0 * 1000 }, values: [0.25, 2, 3, 5, 12]),
            Conversion(
                key: "c-f", from: "degrees Celsius", to: "degrees Fahrenheit", convert: { $0 * 9 / 5 + 32 },
                values: [0, 10, 25, 40, 100]),
            Conversion(
                key: "in-cm", from: "inches", to: "centimeters", convert: { $0 * 2.54 }, values: [1, 10, 12, 20, 50]),
            Conversion(
                key: "mi-km", from: "miles", to: "kilometers", convert: { $0 * 1.609344 }, values: [1, 5, 10, 26, 100]),
            Conversion(
                key: "lb-kg", from: "pounds", to: "kilograms", convert: { $0 * 0.45359237 },
                values: [1, 10, 50, 100, 220]),
            Conversion(
                key: "gb-mb", from: "gigabytes", to: "megabytes (decimal, 1 GB = 1000 MB)", convert: { $0 * 1000 },
                values: [1, 4, 16, 64, 256]),
        ]
        var queries: [QuerySet.Query] = []
        for conversion in conversions {
            for value in conversion.values {
                let result = conversion.convert(value)
                let expected =
                    result == result.rounded() ? String(Int(result)) : formatNumber((result * 1e4).rounded() / 1e4)
                queries.append(
                    .init(
                        id: "units/\(conversion.key)/\(formatNumber(value))",
                        prompt:
                            "Convert \(formatNumber(value)) \(conversion.from) to \(conversion.to). Reply with the number only.",
                        expected: expected, grader: Grader(kind: .numeric, relativeTolerance: 0.01)))
            }
        }
        var generator = SplitMix64(seed: 0x0C0_4E57)
        for index in stride(from: queries.count - 1, to: 0, by: -1) {
            queries.swapAt(index, draw(index + 1, &generator))
        }
        return finish(
            "units",
            "unit conversions with exact factors (metric prefixes, time, temperature, inch, mile, pound), within 1%",
            queries, maxTokens: 16)
    }()

    /// 40 four-option multiple-choice questions of settled general knowledge (geography, science,
    /// history, language), options shuffled with a fixed seed, graded by the letter chosen. Measures
    /// factual recall and following an answer format; chance is 25%.
    package static let knowledge: QuerySet = {
        // (question, correct answer, three wrong ones)
        let items: [(String, String, [String])] = [
            ("What is the capital of France?", "Paris", ["Lyon", "Marseille", "Nice"]),
            ("What is the capital of Japan?", "Tokyo", ["Osaka", "Kyoto", "Nagoya"]),
            ("What is the capital of Australia?", "Canberra", ["Sydney", "Melbourne", "Perth"]),
            ("What is the capital of Canada?", "Ottawa", ["Toronto", "Vancouver", "Montreal"]),
            ("What is the capital of Italy?", "Rome", ["Milan", "Naples", "Turin"]),
            ("What is the capital of Egypt?", "Cairo", ["Alexandria", "Giza", "Luxor"]),
            (
                "Which is the largest ocean on Earth?", "Pacific Ocean",
                ["Atlantic Ocean", "Indian Ocean", "Arctic Ocean"]
            ),
            ("Which is the largest planet in the Solar System?", "Jupiter", ["Saturn", "Neptune", "Earth"]),
            ("Which planet is closest to the Sun?", "Mercury", ["Venus", "Mars", "Earth"]),
            ("Which planet is known as the Red Planet?", "Mars", ["Venus", "Jupiter", "Mercury"]),
            ("What is the chemical symbol for gold?", "Au", ["Ag", "Gd", "Go"]),
            ("What is the chemical symbol for sodium?", "Na", ["So", "Sd", "S"]),
            ("What is the chemical symbol for iron?", "Fe", ["Ir", "In", "I"]),
            ("What gas do plants take in for photosynthesis?", "Carbon dioxide", ["Oxygen", "Nitrogen", "Helium"]),
            ("What is H2O commonly called?", "Water", ["Hydrogen peroxide", "Salt", "Ammonia"]),
            ("How many continents are there on Earth by the usual count?", "Seven", ["Five", "Six", "Eight"]),
            ("How many sides does a hexagon have?", "Six", ["Five", "Seven", "Eight"]),
            ("How many days are in a leap year?", "366", ["365", "364", "360"]),
            ("How many minutes are in an hour?", "60", ["100", "30", "90"]),
            ("At sea level, at what temperature in degrees Celsius does water boil?", "100", ["90", "50", "212"]),
            (
                "Which organ pumps blood through the human body?", "The heart",
                ["The liver", "The lungs", "The kidneys"]
            ),
            ("Which is the longest bone in the human body?", "The femur", ["The tibia", "The humerus", "The spine"]),
            (
                "Who wrote the play Romeo and Juliet?", "William Shakespeare",
                ["Charles Dickens", "Jane Austen", "Mark Twain"]
            ),
            ("Who painted the Mona Lisa?", "Leonardo da Vinci", ["Pablo Picasso", "Vincent van Gogh", "Claude Monet"]),
            (
                "Who developed the theory of general relativity?", "Albert Einstein",
                ["Isaac Newton", "Niels Bohr", "Galileo Galilei"]
            ),
            ("In which year did World War II end?", "1945", ["1939", "1918", "1950"]),
            ("In which year did humans first land on the Moon?", "1969", ["1959", "1975", "1981"]),
            ("Which is the largest country in the world by area?", "Russia", ["Canada", "China", "United States"]),
            (
                "Which is the longest river in South America?", "The Amazon",
                ["The Orinoco", "The Paraná", "The Magdalena"]
            ),
            ("What is the tallest mountain above sea level?", "Mount Everest", ["K2", "Kilimanjaro", "Mont Blanc"]),
            ("What is the primary language of Brazil?", "Portuguese", ["Spanish", "French", "English"]),
            ("What is the currency of Japan?", "Yen", ["Won", "Yuan", "Ringgit"]),
            ("What is the freezing point of water in degrees Fahrenheit?", "32", ["0", "100", "-32"]),
            ("What do bees make?", "Honey", ["Silk", "Milk", "Wax paper"]),
            ("What is the square root of 81?", "9", ["8", "7", "18"]),
            ("What is the smallest prime number?", "2", ["1", "3", "0"]),
            (
                "Which animal is the largest mammal?", "The blue whale",
                ["The African elephant", "The giraffe", "The hippopotamus"]
            ),
            ("What is the main gas in Earth's atmosphere?", "Nitrogen", ["Oxygen", "Carbon dioxide", "Argon"]),
            ("Which metal is liquid at room temperature?", "Mercury", ["Iron", "Aluminium", "Copper"]),
            ("What is the opposite of 'ancient'?", "Modern", ["Old", "Historic", "Antique"]),
        ]
        var generator = SplitMix64(seed: 0x4B_4E_4F_57)
        let letters = Array("ABCD")
        var queries: [QuerySet.Query] = []
        for (index, (question, answer, wrong)) in items.enumerated() {
            var options = [answer] + wrong
            for i in stride(from: options.count - 1, to: 0, by: -1) { options.swapAt(i, draw(i + 1, &generator)) }
            let correct = letters[options.firstIndex(of: answer)!]
            let listed = zip(letters, options).map { "\($0). \($1)" }.joined(separator: "\n")
            queries.append(
                .init(
                    id: "knowledge/\(index)",
                    prompt: "\(question)\n\(listed)\nAnswer with the letter of the correct option only.",
                    expected: String(correct), grader: Grader(kind: .choice, options: "ABCD")))
        }
        return finish(
            "knowledge",
            "four-option multiple choice on settled general knowledge (chance 25%), graded by the letter chosen",
            queries, maxTokens: 8)
    }()
}
