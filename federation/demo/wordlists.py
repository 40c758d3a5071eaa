"""Word lists the demo corpus generator draws from: topics, names, publishers, title patterns.

Publisher names, places and ISBN registrant prefixes are public facts about real publishers;
every title, person and ISBN built from them is invented by the generator.
"""

from __future__ import annotations

# CLC (中图法) main classes: letter -> (Chinese name, English name).
CLC_CLASSES: dict[str, tuple[str, str]] = {
    "A": ("马克思主义、列宁主义、毛泽东思想、邓小平理论", "Marxism, Leninism, Mao Zedong Thought"),
    "B": ("哲学、宗教", "Philosophy and religion"),
    "C": ("社会科学总论", "Social sciences (general)"),
    "D": ("政治、法律", "Politics and law"),
    "E": ("军事", "Military science"),
    "F": ("经济", "Economics"),
    "G": ("文化、科学、教育、体育", "Culture, science, education and sports"),
    "H": ("语言、文字", "Languages and linguistics"),
    "I": ("文学", "Literature"),
    "J": ("艺术", "Arts"),
    "K": ("历史、地理", "History and geography"),
    "N": ("自然科学总论", "Natural sciences (general)"),
    "O": ("数理科学和化学", "Mathematics, physics and chemistry"),
    "P": ("天文学、地球科学", "Astronomy and earth sciences"),
    "Q": ("生物科学", "Biology"),
    "R": ("医药、卫生", "Medicine and health"),
    "S": ("农业科学", "Agriculture"),
    "T": ("工业技术", "Industrial technology"),
    "U": ("交通运输", "Transportation"),
    "V": ("航空、航天", "Aeronautics and astronautics"),
    "X": ("环境科学、安全科学", "Environmental and safety science"),
    "Z": ("综合性图书", "General works"),
}

LANGUAGES: dict[str, tuple[str, str]] = {
    "chi": ("中文", "Chinese"),
    "eng": ("英文", "English"),
    "ger": ("德文", "German"),
    "fre": ("法文", "French"),
}

# (Chinese topic, English topic, CLC class, LC class) of academic books.
ACADEMIC_TOPICS: tuple[tuple[str, str, str, str], ...] = (
    ("计算机网络", "Computer Networks", "TP393", "TK5105.5"),
    ("操作系统", "Operating Systems", "TP316", "QA76.77"),
    ("数据结构", "Data Structures", "TP311.12", "QA76.9.D35"),
    ("数据库系统", "Database Systems", "TP311.13", "QA76.9.D3"),
    ("人工智能", "Artificial Intelligence", "TP18", "Q335"),
    ("机器学习", "Machine Learning", "TP181", "Q325.5"),
    ("软件工程", "Software Engineering", "TP311.5", "QA76.758"),
    ("编译原理", "Compiler Design", "TP314", "QA76.76.C65"),
    ("Python程序设计", "Python Programming", "TP311.561", "QA76.73.P98"),
    ("信号与系统", "Signals and Systems", "TN911.6", "TK5102.9"),
    ("通信原理", "Communication Systems", "TN91", "TK5101"),
    ("数字电子技术", "Digital Electronics", "TN79", "TK7868.D5"),
    ("自动控制原理", "Automatic Control", "TP13", "TJ213"),
    ("电路分析", "Circuit Analysis", "TM133", "TK454"),
    ("机械设计", "Machine Design", "TH122", "TJ230"),
    ("材料力学", "Mechanics of Materials", "TB301", "TA405"),
    ("工程热力学", "Engineering Thermodynamics", "TK123", "TJ265"),
    ("化工原理", "Chemical Engineering", "TQ02", "TP155"),
    ("食品化学", "Food Chemistry", "TS201.2", "TX541"),
    ("葡萄酒工艺学", "Winemaking", "TS262.61", "TP548"),
    ("高等数学", "Calculus", "O13", "QA303.2"),
    ("线性代数", "Linear Algebra", "O151.2", "QA184.2"),
    ("概率论与数理统计", "Probability and Statistics", "O21", "QA273"),
    ("数学分析", "Mathematical Analysis", "O17", "QA300"),
    ("大学物理", "University Physics", "O4", "QC21.3"),
    ("量子力学", "Quantum Mechanics", "O413.1", "QC174.12"),
    ("有机化学", "Organic Chemistry", "O62", "QD251.3"),
    ("物理化学", "Physical Chemistry", "O64", "QD453.3"),
    ("分析化学", "Analytical Chemistry", "O65", "QD75.22"),
    ("分子生物学", "Molecular Biology", "Q7", "QH506"),
    ("细胞生物学", "Cell Biology", "Q2", "QH581.2"),
    ("生态学", "Ecology", "Q14", "QH541"),
    ("海洋生物学", "Marine Biology", "Q178.53", "QH91"),
    ("海洋学", "Oceanography", "P7", "GC11.2"),
    ("海洋经济", "Marine Economics", "P74", "GC1018"),
    ("气象学", "Meteorology", "P4", "QC861.3"),
    ("地质学", "Geology", "P5", "QE26.3"),
    ("水产养殖学", "Aquaculture", "S96", "SH135"),
    ("果树栽培学", "Fruit Growing", "S66", "SB355"),
    ("内科学", "Internal Medicine", "R5", "RC46"),
    ("外科学", "Surgery", "R6", "RD31"),
    ("药理学", "Pharmacology", "R96", "RM300"),
    ("病理学", "Pathology", "R36", "RB111"),
    ("护理学", "Nursing", "R47", "RT41"),
    ("中医学", "Traditional Chinese Medicine", "R2", "R601"),
    ("预防医学", "Preventive Medicine", "R1", "RA425"),
    ("微观经济学", "Microeconomics", "F016", "HB172"),
    ("宏观经济学", "Macroeconomics", "F015", "HB172.5"),
    ("计量经济学", "Econometrics", "F224.0", "HB139"),
    ("国际贸易", "International Trade", "F74", "HF1379"),
    ("市场营销", "Marketing", "F713.50", "HF5415"),
    ("会计学", "Accounting", "F230", "HF5636"),
    ("财务管理", "Financial Management", "F275", "HG4026"),
    ("管理学", "Management", "C93", "HD31"),
    ("统计学", "Statistics", "C8", "HA29"),
    ("社会学", "Sociology", "C91", "HM585"),
    ("政治学", "Political Science", "D0", "JA66"),
    ("法理学", "Jurisprudence", "D90", "K230"),
    ("民法学", "Civil Law", "D923", "KNQ500"),
    ("国际法", "International Law", "D99", "KZ3410"),
    ("教育学", "Education", "G40", "LB17"),
    ("心理学", "Psychology", "B84", "BF121"),
    ("西方哲学", "Western Philosophy", "B5", "B72"),
    ("中国哲学", "Chinese Philosophy", "B2", "B126"),
    ("伦理学", "Ethics", "B82", "BJ1012"),
    ("逻辑学", "Logic", "B81", "BC71"),
    ("语言学", "Linguistics", "H0", "P121"),
    ("英语写作", "English Writing", "H315", "PE1408"),
    ("现代汉语", "Modern Chinese", "H1", "PL1071"),
    ("文学理论", "Literary Theory", "I0", "PN45"),
    ("中国古代文学", "Classical Chinese Literature", "I206.2", "PL2265"),
    ("中国近代史", "Modern Chinese History", "K25", "DS755"),
    ("中国古代史", "Ancient Chinese History", "K22", "DS741.5"),
    ("世界史", "World History", "K1", "D20"),
    ("考古学", "Archaeology", "K85", "CC165"),
    ("马克思主义基本原理", "Basic Principles of Marxism", "A81", "HX73"),
    ("新闻学", "Journalism", "G210", "PN4731"),
    ("图书馆学", "Library Science", "G250", "Z665"),
    ("体育学", "Sports Science", "G80", "GV341"),
    ("艺术设计", "Design", "J06", "NK1510"),
    ("音乐理论", "Music Theory", "J61", "MT6"),
    ("建筑设计", "Architectural Design", "TU2", "NA2750"),
    ("城市规划", "Urban Planning", "TU984", "HT166"),
    ("环境工程", "Environmental Engineering", "X5", "TD145"),
    ("船舶工程", "Naval Architecture", "U66", "VM145"),
    ("港口工程", "Port Engineering", "U65", "TC205"),
    ("航空工程", "Aeronautical Engineering", "V2", "TL509"),
    ("军事理论", "Military Theory", "E0", "U21"),
    ("科学技术史", "History of Science", "N09", "Q125"),
    ("天文学", "Astronomy", "P1", "QB43.3"),
)

# Popular non-fiction for general readers.
POPULAR_TOPICS: tuple[tuple[str, str, str, str], ...] = (
    ("家常菜", "Home Cooking", "TS972.12", "TX724.5.C5"),
    ("健康养生", "Healthy Living", "R161", "RA776"),
    ("科学育儿", "Parenting", "TS976.31", "HQ769"),
    ("家庭教育", "Family Education", "G78", "HQ755.8"),
    ("个人理财", "Personal Finance", "F830.59", "HG179"),
    ("胶东旅游", "Travel in Jiaodong", "K928.952", "DS793.S4"),
    ("数码摄影", "Digital Photography", "J41", "TR267"),
    ("书法", "Calligraphy", "J292.1", "NK3634"),
    ("围棋", "The Game of Go", "G891.3", "GV1460"),
    ("家庭园艺", "Home Gardening", "S68", "SB453"),
    ("心理健康", "Mental Health", "R395.6", "RA790"),
    ("苹果栽培", "Apple Growing", "S661.1", "SB363"),
    ("胶东民俗", "Jiaodong Folk Customs", "K892.452", "GR337"),
    ("烟台地方史", "Local History of Yantai", "K295.23", "DS797.S4"),
    ("少儿科普", "Science for Children", "Z228.1", "Q163"),
    ("老年保健", "Health in Later Life", "R161.7", "RA777.6"),
    ("中国通史", "A History of China", "K20", "DS735"),
    ("唐诗", "Tang Poetry", "I222.742", "PL2531"),
)

# Title patterns: (Chinese, English, subtitle zh, subtitle en); {t} / {T} is the topic.
ACADEMIC_PATTERNS: tuple[tuple[str, str, str | None, str | None], ...] = (
    ("{t}", "{T}", None, None),
    ("{t}导论", "Introduction to {T}", None, None),
    ("{t}原理", "Principles of {T}", None, None),
    ("{t}基础", "Fundamentals of {T}", None, None),
    ("{t}教程", "A Course in {T}", None, None),
    ("{t}概论", "An Overview of {T}", None, None),
    ("现代{t}", "Modern {T}", None, None),
    ("{t}", "{T}", "理论与实践", "theory and practice"),
    ("{t}", "{T}", "原理与应用", "principles and applications"),
    ("{t}", "{T}", "方法与案例", "methods and cases"),
    ("{t}手册", "Handbook of {T}", None, None),
    ("{t}前沿问题研究", "Frontiers of {T}", None, None),
    ("{t}学习指导与习题解答", "Study Guide for {T}", None, None),
    ("{t}实验教程", "Laboratory Manual for {T}", None, None),
)

POPULAR_PATTERNS: tuple[tuple[str, str, str | None, str | None], ...] = (
    ("{t}入门", "{T} for Beginners", None, None),
    ("{t}大全", "The Complete Book of {T}", None, None),
    ("图解{t}", "{T} Illustrated", None, None),
    ("{t}一本通", "{T} All in One", None, None),
    ("{t}百问百答", "{T}: 100 Questions and Answers", None, None),
    ("走进{t}", "Discovering {T}", None, None),
    ("{t}", "{T}", "从入门到精通", "from novice to expert"),
)

# Fiction titles: adjective + noun, each as (Chinese, English).
FICTION_ADJECTIVES: tuple[tuple[str, str], ...] = (
    ("沉默的", "Silent"),
    ("遥远的", "Distant"),
    ("最后的", "Last"),
    ("北方的", "Northern"),
    ("春天的", "Spring"),
    ("失落的", "Lost"),
    ("燃烧的", "Burning"),
    ("寂静的", "Quiet"),
    ("漫长的", "Long"),
    ("白色的", "White"),
    ("海边的", "Seaside"),
    ("秘密的", "Secret"),
    ("午夜的", "Midnight"),
    ("蓝色的", "Blue"),
    ("破碎的", "Broken"),
    ("金色的", "Golden"),
)
FICTION_NOUNS: tuple[tuple[str, str], ...] = (
    ("河流", "River"),
    ("灯塔", "Lighthouse"),
    ("群山", "Mountains"),
    ("村庄", "Village"),
    ("海岸", "Coast"),
    ("夏天", "Summer"),
    ("星空", "Stars"),
    ("归途", "Road Home"),
    ("故乡", "Homeland"),
    ("花园", "Garden"),
    ("岛屿", "Island"),
    ("港湾", "Harbour"),
    ("雪原", "Snowfield"),
    ("信笺", "Letters"),
    ("钟声", "Bells"),
    ("果园", "Orchard"),
    ("渡口", "Ferry"),
    ("山谷", "Valley"),
    ("旅人", "Traveller"),
    ("家族", "Family"),
)
# Fiction title forms: (Chinese, English); {a}/{A} adjective, {n}/{N} noun.
FICTION_FORMS: tuple[tuple[str, str], ...] = (
    ("{a}{n}", "The {A} {N}"),
    ("{a}{n}", "The {A} {N}"),
    ("{n}往事", "Memories of the {N}"),
    ("{n}之歌", "Song of the {N}"),
    ("{n}深处", "Deep in the {N}"),
    ("{n}纪事", "Chronicles of the {N}"),
)
# Novels by the author's country: (CLC class, LC class, Chinese subject heading).
FICTION_CLASSES = {
    "中": ("I247.5", "PL2946", "长篇小说--中国--当代"),
    "美": ("I712.45", "PS3600", "长篇小说--美国--现代"),
    "英": ("I561.45", "PR6100", "长篇小说--英国--现代"),
}

CHINESE_SURNAMES = tuple(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
)
CHINESE_GIVEN = tuple(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华玉兰建国志文海红晓林斌宇浩凯鹏辉丹宁欣怡佳"
    "雪梅琳婷雨晨阳峰波俊毅鑫慧颖瑞博思新春云立振德成永庆东光"
)

# Western names with their usual Chinese transliteration: (English, Chinese).
WESTERN_GIVEN: tuple[tuple[str, str], ...] = (
    ("John", "约翰"),
    ("Mary", "玛丽"),
    ("David", "戴维"),
    ("James", "詹姆斯"),
    ("Robert", "罗伯特"),
    ("Michael", "迈克尔"),
    ("William", "威廉"),
    ("Thomas", "托马斯"),
    ("Elizabeth", "伊丽莎白"),
    ("Susan", "苏珊"),
    ("Richard", "理查德"),
    ("Emily", "埃米莉"),
    ("Peter", "彼得"),
    ("Laura", "劳拉"),
    ("George", "乔治"),
    ("Helen", "海伦"),
    ("Daniel", "丹尼尔"),
    ("Anna", "安娜"),
    ("Mark", "马克"),
    ("Sarah", "萨拉"),
)
WESTERN_SURNAMES: tuple[tuple[str, str], ...] = (
    ("Smith", "史密斯"),
    ("Brown", "布朗"),
    ("Miller", "米勒"),
    ("Wilson", "威尔逊"),
    ("Taylor", "泰勒"),
    ("Anderson", "安德森"),
    ("Clark", "克拉克"),
    ("Lewis", "刘易斯"),
    ("Walker", "沃克"),
    ("Hall", "霍尔"),
    ("Young", "扬"),
    ("King", "金"),
    ("Wright", "赖特"),
    ("Scott", "斯科特"),
    ("Green", "格林"),
    ("Baker", "贝克"),
    ("Adams", "亚当斯"),
    ("Nelson", "纳尔逊"),
    ("Carter", "卡特"),
    ("Mitchell", "米切尔"),
)
WESTERN_COUNTRIES = (("美", "xxu"), ("英", "enk"))

# (name, place, ISBN group, registrant, audience) of Chinese publishers (audience: academic,
# popular or general decides which books they publish).
CHINESE_PUBLISHERS: tuple[tuple[str, str, str, str, str], ...] = (
    ("人民出版社", "北京", "7", "01", "general"),
    ("清华大学出版社", "北京", "7", "302", "academic"),
    ("科学出版社", "北京", "7", "03", "academic"),
    ("高等教育出版社", "北京", "7", "04", "academic"),
    ("机械工业出版社", "北京", "7", "111", "academic"),
    ("电子工业出版社", "北京", "7", "121", "academic"),
    ("人民邮电出版社", "北京", "7", "115", "academic"),
    ("北京大学出版社", "北京", "7", "301", "academic"),
    ("中国人民大学出版社", "北京", "7", "300", "academic"),
    ("商务印书馆", "北京", "7", "100", "general"),
    ("中华书局", "北京", "7", "101", "general"),
    ("上海古籍出版社", "上海", "7", "5325", "general"),
    ("复旦大学出版社", "上海", "7", "309", "academic"),
    ("浙江大学出版社", "杭州", "7", "308", "academic"),
    ("人民文学出版社", "北京", "7", "02", "popular"),
    ("作家出版社", "北京", "7", "5063", "popular"),
    ("译林出版社", "南京", "7", "5447", "popular"),
    ("山东人民出版社", "济南", "7", "209", "general"),
    ("山东大学出版社", "济南", "7", "5607", "academic"),
    ("中国海洋大学出版社", "青岛", "7", "5670", "academic"),
    ("山东教育出版社", "济南", "7", "5328", "popular"),
    ("化学工业出版社", "北京", "7", "122", "academic"),
    ("中国农业出版社", "北京", "7", "109", "academic"),
    ("人民卫生出版社", "北京", "7", "117", "academic"),
    ("社会科学文献出版社", "北京", "7", "5097", "academic"),
    ("中信出版社", "北京", "7", "5086", "popular"),
    ("长江文艺出版社", "武汉", "7", "5354", "popular"),
    ("接力出版社", "南宁", "7", "5448", "popular"),
    ("青岛出版社", "青岛", "7", "5436", "popular"),
)
CHINESE_PLACE_CODES = {
    "北京": "110000",
    "上海": "310000",
    "杭州": "330100",
    "南京": "320100",
    "济南": "370100",
    "青岛": "370200",
    "武汉": "420100",
    "南宁": "450100",
}

# (name, place, ISBN group, registrant, MARC country) of English-language publishers.
ENGLISH_PUBLISHERS: tuple[tuple[str, str, str, str, str], ...] = (
    ("Cambridge University Press", "Cambridge", "0", "521", "enk"),
    ("Oxford University Press", "Oxford", "0", "19", "enk"),
    ("MIT Press", "Cambridge, Mass.", "0", "262", "mau"),
    ("Wiley", "Hoboken, NJ", "0", "471", "nju"),
    ("Springer", "Berlin", "3", "540", "gw "),
    ("Routledge", "London", "0", "415", "enk"),
    ("Princeton University Press", "Princeton, NJ", "0", "691", "nju"),
    ("Harvard University Press", "Cambridge, Mass.", "0", "674", "mau"),
    ("McGraw-Hill", "New York", "0", "07", "nyu"),
    ("Pearson", "Boston", "0", "13", "mau"),
    ("Penguin Books", "London", "0", "14", "enk"),
    ("HarperCollins", "New York", "0", "06", "nyu"),
)

# (name, place, ISBN group, registrant, MARC country) of publishers of English novels.
FICTION_PUBLISHERS: tuple[tuple[str, str, str, str, str], ...] = (
    ("Penguin Books", "London", "0", "14", "enk"),
    ("HarperCollins", "New York", "0", "06", "nyu"),
    ("Vintage Books", "New York", "0", "679", "nyu"),
    ("Bloomsbury", "London", "0", "7475", "enk"),
)

SERIES_ZH = ("21世纪高等学校规划教材", "普通高等教育“十四五”规划教材", "国家级精品课程教材")
SERIES_EN = ("Graduate Texts", "Cambridge Studies", "Lecture Notes")

# Shelving locations per kind of member.
LOCATIONS: dict[str, tuple[str, ...]] = {
    "university": (
        "主馆三层社科图书借阅区",
        "主馆四层自然科学图书借阅区",
        "外文图书阅览室",
        "密集书库",
    ),
    "research": ("文献中心书库", "外文图书阅览室"),
    "public": ("成人图书借阅区", "少儿图书借阅区", "地方文献阅览室", "流通书库"),
    "school": ("学生阅览室", "教师资料室"),
    "community": ("社区书屋",),
}
