"""The chrome generated manuals put around their text is dropped: Sphinx permalinks, DocBook
navigation tables and tables of contents, texinfo's 'Next: … Previous: … Up: …' lines. Their
structure is kept: code with its lines, a FAQ's questions and a reference's terms as headings."""

from __future__ import annotations

from parley_bot.knowledge.html import parse_html

SPHINX = """<html><head><title>Logging HOWTO</title></head><body>
<div class="related" role="navigation"><a href="index.html">index</a></div>
<div class="sphinxsidebar"><ul><li><a href="a.html">A</a></li><li><a href="b.html">B</a></li>
<li><a href="c.html">C</a></li></ul></div>
<div class="body" role="main">
<h1>Logging HOWTO<a class="headerlink" href="#logging-howto" title="Link">¶</a></h1>
<section id="basic"><h2>Basic tutorial<a class="headerlink" href="#basic">¶</a></h2>
<p>Call <code>logging.basicConfig()</code> once:</p>
<div class="highlight"><pre>import logging
logging.basicConfig(level=logging.INFO)
</pre></div>
</section></div></body></html>"""

DOCBOOK = """<html><head><title>Valgrind FAQ</title></head><body>
<div class="navheader"><table summary="Navigation header"><tr>
<td><a href="prev.html">Prev</a></td><th>FAQ</th>
<td><a href="next.html">Next</a></td></tr></table></div>
<div class="article"><h1 class="title">Valgrind FAQ</h1>
<div class="toc"><dl><dt><a href="#q1">1. Background</a></dt>
<dd><a href="#q2">1.1 Pronounce</a></dd>
<dd><a href="#q3">1.2 Name</a></dd></dl></div>
<table><tr class="question"><td><a name="faq.pronounce"></a><b>1.1.</b></td>
<td><b>How do you pronounce "Valgrind"?</b></td></tr>
<tr class="answer"><td></td><td><p>The "Val" as in the word "value".</p></td></tr></table>
<div class="variablelist"><dl>
<dt><a name="opt.tool"></a><span class="term">
<code>--tool=&lt;toolname&gt; [default: memcheck]</code></span></dt>
<dd><p>Run the Valgrind tool called <code>toolname</code>.</p></dd>
</dl></div>
<p>Options after the list belong to the page again.</p>
</div>
<div class="navfooter"><table><tr><td><a href="prev.html">Prev</a></td></tr></table></div>
</body></html>"""

TEXINFO = """<html><head><title>Bash Reference Manual: Aliases</title></head><body>
<div class="section-level-extent" id="Aliases">
<div class="nav-panel"><p>Next: <a href="#Arrays">Arrays</a>, Previous: <a href="#Interactive">
Interactive Shells</a>, Up: <a href="#Bash-Features">Bash Features</a></p></div>
<p>Next: <a href="#Arrays">Arrays</a>, Previous: <a href="#Interactive">Interactive Shells</a>,
Up: <a href="#Bash-Features">Bash Features</a> &nbsp; [<a href="#toc">Contents</a>]</p>
<h3 class="section" id="Aliases-1">
<span>6.6 Aliases<a class="copiable-link" href="#Aliases-1"> ¶</a></span></h3>
<p>Aliases allow a string to be substituted for a word.</p>
</div></body></html>"""


def test_sphinx_permalinks_and_sidebars_are_dropped_and_code_keeps_its_lines() -> None:
    title, sections = parse_html(SPHINX.encode(), "logging.html")
    assert title == "Logging HOWTO"
    assert [(s.heading_path, s.anchor) for s in sections] == [
        (("Logging HOWTO", "Basic tutorial"), "basic")]
    assert sections[0].text == (
        "Call logging.basicConfig() once:\n\n"
        "```\nimport logging\nlogging.basicConfig(level=logging.INFO)\n```")


def test_docbook_navigation_and_tables_of_contents_are_dropped() -> None:
    _, sections = parse_html(DOCBOOK.encode(), "faq.html")
    text = "\n".join(s.text for s in sections)
    assert "Prev" not in text and "Next" not in text and "Pronounce" not in text


def test_a_faq_question_and_a_defined_term_head_their_own_sections() -> None:
    _, sections = parse_html(DOCBOOK.encode(), "faq.html")
    assert [(s.heading_path, s.anchor, s.text) for s in sections] == [
        (("Valgrind FAQ", '1.1. How do you pronounce "Valgrind"?'), "faq.pronounce",
         'The "Val" as in the word "value".'),
        (("Valgrind FAQ", "--tool=<toolname> [default: memcheck]"), "opt.tool",
         "Run the Valgrind tool called toolname."),
        (("Valgrind FAQ",), "valgrind-faq", "Options after the list belong to the page again."),
    ]


def test_texinfo_navigation_lines_and_anchors_are_dropped() -> None:
    _, sections = parse_html(TEXINFO.encode(), "bashref.html")
    assert [(s.heading_path, s.text) for s in sections] == [
        (("6.6 Aliases",), "Aliases allow a string to be substituted for a word.")]
