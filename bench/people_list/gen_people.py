#!/usr/bin/env python3
"""Generate a deterministic roster of people as .xlsx files for `POST /api/v1/people/import`.

First sheet, first row = the Chinese headers the import expects:

    工号, 姓名, 性别, 部门编码, 岗位编码, 窗口编码, 手机号, 一把手, 分管领导

- 工号 (employee number) is `<prefix><6 digits>`, numbered from --start, so several runs with
  different --start never collide (the default prefix/start keep clear of the demo city's people);
- 姓名 is a common surname plus one or two given-name characters, 性别 is 男/女 to match;
- 部门编码 cycles through the department codes given (shuffled with the seed), so people are spread
  evenly over every department;
- 岗位编码 and 窗口编码 are left empty (the bench does not depend on the demo's post/window codes);
- 手机号 is a unique 11-digit mobile (1[3-9]x + 8 digits), ~5% left empty; all cells are text;
- 一把手 is always 否 (a department may allow only one), 分管领导 is 是 for ~2%.

At most --chunk rows go into one file (the server imports at most 5,000 rows per file).
The same arguments always give the same rows (the seed fixes them).

    python3 gen_people.py --count 9400 --departments D001,D002 --out-dir /tmp/x
    python3 gen_people.py --count 100 --departments-file codes.txt --out-dir /tmp/x --start 500000

Prints the path of every file written, one per line.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
from pathlib import Path

HEADERS = ["工号", "姓名", "性别", "部门编码", "岗位编码", "窗口编码", "手机号", "一把手", "分管领导"]

# The most common Chinese surnames, roughly in order of frequency (earlier ones are drawn more).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
SURNAMES_COMPOUND = ["欧阳", "司马", "诸葛", "上官"]

GIVEN_MALE = "伟刚勇毅俊峰强军平保东文辉力明永健世广志义兴良海山仁波宁贵福生龙元全国胜学祥才发武新利清飞彬富顺信子杰涛昌成康星光天达安岩中茂进林有坚和彪博诚先敬震振壮会思群豪心邦承乐绍功松善厚庆磊民友裕河哲江超浩亮政谦亨奇固之轮翰朗伯宏言若鸣朋斌梁栋维启克伦翔旭鹏泽晨辰士以建家致树炎德行时泰盛雄琛钧冠策腾楠榕风航弘"
GIVEN_FEMALE = "秀娟英华慧巧美娜静淑惠珠翠雅芝玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛艳瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽"

MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
                   "155", "156", "157", "158", "159", "166", "176", "177", "178", "180", "181", "182",
                   "183", "185", "186", "187", "188", "189", "191", "198", "199"]


def ensure_openpyxl():
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        print("openpyxl is missing: installing it with pip", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "openpyxl"], check=True)
    import openpyxl

    return openpyxl


# Zipf-like weights: 王, 李, 张 ... are drawn far more often than 覃, 莫, 汤.
SURNAME_CUM_WEIGHTS = []
_total = 0.0
for _i in range(len(SURNAMES)):
    _total += 1.0 / (_i + 4)
    SURNAME_CUM_WEIGHTS.append(_total)


def weighted_surname(rng: random.Random) -> str:
    if rng.random() < 0.01:
        return rng.choice(SURNAMES_COMPOUND)
    return rng.choices(SURNAMES, cum_weights=SURNAME_CUM_WEIGHTS)[0]


def person(index: int, rng: random.Random, departments: list[str], prefix: str, start: int) -> list[str]:
    number = start + index
    male = rng.random() < 0.52
    chars = GIVEN_MALE if male else GIVEN_FEMALE
    given = rng.choice(chars) if rng.random() < 0.35 else rng.choice(chars) + rng.choice(chars)
    name = weighted_surname(rng) + given
    dept = departments[index % len(departments)]
    if rng.random() < 0.05:
        mobile = ""
    else:
        # (number * 7919) mod 10^8 is a bijection on 0..10^8-1, so mobiles are unique per number.
        mobile = MOBILE_PREFIXES[number % len(MOBILE_PREFIXES)] + f"{(number * 7919 + 1234567) % 10**8:08d}"
    deputy = "是" if rng.random() < 0.02 else "否"
    return [f"{prefix}{number:06d}", name, "男" if male else "女", dept, "", "", mobile, "否", deputy]


def write_xlsx(openpyxl, path: Path, rows: list[list[str]]) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "人员"
    ws.append(HEADERS)
    for row in rows:
        ws.append(row)
    for col, width in zip("ABCDEFGHI", (10, 10, 6, 10, 10, 10, 14, 8, 10)):
        ws.column_dimensions[col].width = width
    wb.properties.creator = "xiaoneng bench"
    wb.save(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, required=True, help="number of people to generate")
    dept = ap.add_mutually_exclusive_group(required=True)
    dept.add_argument("--departments", help="comma-separated department codes")
    dept.add_argument("--departments-file", help="file with one department code per line")
    ap.add_argument("--out-dir", required=True, help="folder for the .xlsx files (created)")
    ap.add_argument("--name", default="people", help="file name stem (default: people)")
    ap.add_argument("--chunk", type=int, default=5000, help="rows per file, at most 5000 (default 5000)")
    ap.add_argument("--start", type=int, default=500000, help="first employee number (default 500000)")
    ap.add_argument("--prefix", default="B", help="employee number prefix (default B)")
    ap.add_argument("--seed", type=int, default=20261129, help="random seed (default 20261129)")
    args = ap.parse_args(argv)

    if args.count < 0:
        ap.error("--count must be >= 0")
    if not 1 <= args.chunk <= 5000:
        ap.error("--chunk must be between 1 and 5000")
    if args.start + args.count > 10**6:
        ap.error("employee numbers would exceed 6 digits")
    if args.departments is not None:
        departments = [d.strip() for d in args.departments.split(",") if d.strip()]
    else:
        departments = [d.strip() for d in Path(args.departments_file).read_text("utf-8").splitlines() if d.strip()]
    if not departments:
        ap.error("no department codes given")

    openpyxl = ensure_openpyxl()
    rng = random.Random(args.seed * 1_000_003 + args.start)
    departments = sorted(set(departments))
    rng.shuffle(departments)

    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = [person(i, rng, departments, args.prefix, args.start) for i in range(args.count)]
    for n, lo in enumerate(range(0, len(rows), args.chunk), start=1):
        path = out / f"{args.name}-{n:03d}.xlsx"
        write_xlsx(openpyxl, path, rows[lo : lo + args.chunk])
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
