#include "tools/csv_chunker.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "connectors/pos_csv.h"

namespace tessera::tools {
namespace {

using connectors::CsvMapping;

std::vector<CsvPiece> Cut(std::string_view file, size_t max_bytes, size_t feed_bytes) {
  CsvChunker chunker(max_bytes);
  std::vector<CsvPiece> pieces;
  for (size_t at = 0; at < file.size(); at += feed_bytes) chunker.Feed(file.substr(at, feed_bytes), pieces);
  chunker.Finish(pieces);
  return pieces;
}

TEST(CsvChunkerTest, EveryPieceIsTheHeaderAndWholeRows) {
  const std::string file = "id,name\n1,a\n2,b\n3,c\n4,d\n";
  for (size_t feed : {1, 3, 100}) {
    const std::vector<CsvPiece> pieces = Cut(file, 8 + 8, feed);  // header (8) + two rows (4 each)
    ASSERT_EQ(pieces.size(), 2u) << "feeding " << feed << " bytes at a time";
    EXPECT_EQ(pieces[0].text, "id,name\n1,a\n2,b\n");
    EXPECT_EQ(pieces[0].first_row_line, 2u);
    EXPECT_EQ(pieces[0].rows, 2u);
    EXPECT_EQ(pieces[1].text, "id,name\n3,c\n4,d\n");
    EXPECT_EQ(pieces[1].first_row_line, 4u);
  }
}

TEST(CsvChunkerTest, LineBreaksInsideQuotesStayInTheirRowAndCountAsLines) {
  const std::string file = "id,note\n1,\"two\nlines\"\n2,\"say \"\"hi\"\"\"\n3,x\n";
  const std::vector<CsvPiece> pieces = Cut(file, 20, 1);
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_EQ(pieces[0].text, "id,note\n1,\"two\nlines\"\n");
  EXPECT_EQ(pieces[1].text, "id,note\n2,\"say \"\"hi\"\"\"\n") << "doubled quotes do not end the field";
  EXPECT_EQ(pieces[1].first_row_line, 4u) << "the quoted line break counts as a line of the file";
  EXPECT_EQ(pieces[2].first_row_line, 5u);
  // The server reports the row of piece 2 as line 2 (its header is line 1).
  EXPECT_EQ(pieces[2].FileLine(2), 5u);
}

TEST(CsvChunkerTest, RowsEndWhereTheImporterEndsThem) {
  // A quote inside an unquoted field is literal (an inch mark), not the start of a quoted field.
  std::vector<CsvPiece> pieces = Cut("id,item\n1,5\" tv\n2,cable\n", 14, 1);
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_EQ(pieces[0].text, "id,item\n1,5\" tv\n");
  EXPECT_EQ(pieces[1].text, "id,item\n2,cable\n");
  // CR alone ends a row, as in old Mac exports.
  pieces = Cut("id\r1\r2\r", 5, 1);
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_EQ(pieces[0].text, "id\r\n1\r") << "the header's lone CR gets its LF (see below)";
  EXPECT_EQ(pieces[1].first_row_line, 3u);
  // Blank lines are no rows: they ride along before the next row, keeping the lines in step.
  pieces = Cut("id\n1\n\n\n2\n\n", 7, 1);
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_EQ(pieces[0].rows, 1u);
  EXPECT_EQ(pieces[1].text, "id\n\n\n2\n");
  EXPECT_EQ(pieces[1].first_row_line, 3u) << "the piece's text starts with the blank lines";
  EXPECT_EQ(pieces[1].FileLine(4), 5u) << "the server's line 4 of the piece is the row 2 of line 5";
  EXPECT_TRUE(Cut("id\n\n\n", 100, 1).empty()) << "only blank lines: nothing to send";
}

// Found by fuzz/csv_chunker_fuzzer: a header ended by a lone CR, and a piece whose rows begin with
// a blank line. Joined, the two made a CRLF, so the server counted one line less than the file.
TEST(CsvChunkerTest, TheServerSeesThePiecesRowsOnTheFilesLines) {
  CsvMapping mapping;
  mapping.receipt_id = "receipt";
  mapping.email = "email";
  mapping.timestamp = "at";
  const std::string file =
      "receipt,email,at\r1,a@x.com,2024-03-01T10:00:00Z\n\n2,,2024-03-01T10:00:00Z\n\n\n3,c@x.com,bad\n";
  const ingest::Timestamp now(std::chrono::seconds(1'717'200'000));
  absl::StatusOr<ingest::ParsedRequest> whole = connectors::TranslatePosCsv(file, mapping, now);
  ASSERT_TRUE(whole.ok());
  ASSERT_EQ(whole->rejected.size(), 2u);
  std::vector<size_t> lines;
  for (const CsvPiece& piece : Cut(file, 30, 4)) {
    absl::StatusOr<ingest::ParsedRequest> part = connectors::TranslatePosCsv(piece.text, mapping, now);
    ASSERT_TRUE(part.ok());
    for (const auto& row : part->rejected) lines.push_back(piece.FileLine(row.index));
  }
  EXPECT_EQ(lines, (std::vector<size_t>{whole->rejected[0].index, whole->rejected[1].index}));
  EXPECT_EQ(lines, (std::vector<size_t>{4, 7}));
}

// Found by fuzz/csv_chunker_fuzzer: a BOM starts no row for the importer, so a BOM followed by a
// line break is a blank line before the header, not the header.
TEST(CsvChunkerTest, AByteOrderMarkStartsNoRow) {
  const std::vector<CsvPiece> pieces = Cut("\xEF\xBB\xBF\nid\n1\n", 100, 1);
  ASSERT_EQ(pieces.size(), 1u);
  EXPECT_EQ(pieces[0].rows, 1u);
  EXPECT_EQ(pieces[0].header_lines, 2u);
  EXPECT_EQ(pieces[0].first_row_line, 3u);
  EXPECT_EQ(pieces[0].text, "\xEF\xBB\xBF\nid\n1\n");
  const std::vector<CsvPiece> not_bom = Cut("\xEF\xBB\nid\n1\n", 100, 1);
  ASSERT_EQ(not_bom.size(), 1u);
  EXPECT_EQ(not_bom[0].rows, 2u) << "two bytes of a BOM are a header like any other";
}

TEST(CsvChunkerTest, ARowLongerThanThePieceLimitIsAPieceAlone) {
  const std::string file = "h\nshort\n" + std::string(100, 'x') + "\nshort2\n";
  const std::vector<CsvPiece> pieces = Cut(file, 16, 7);
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_EQ(pieces[1].text, "h\n" + std::string(100, 'x') + "\n");
  EXPECT_EQ(pieces[1].rows, 1u);
}

TEST(CsvChunkerTest, ALastRowWithoutLineBreakAndAHeaderAloneAreHandled) {
  std::vector<CsvPiece> pieces = Cut("id\n1\n2", 100, 2);
  ASSERT_EQ(pieces.size(), 1u);
  EXPECT_EQ(pieces[0].text, "id\n1\n2");
  EXPECT_EQ(pieces[0].rows, 2u);
  EXPECT_TRUE(Cut("id,name\n", 100, 3).empty()) << "a header without rows sends nothing";
  EXPECT_TRUE(Cut("", 100, 3).empty());
}

TEST(CsvChunkerTest, PiecesPutTogetherAreTheFileWhateverTheFeeding) {
  std::mt19937 random(7);
  std::string file = "a,b,c\r\n";
  for (int row = 0; row < 500; ++row) {
    file += std::to_string(row) + ",";
    if (random() % 5 == 0) {
      file += "\"q\nq,\"\"x\"\"\"";
    } else {
      file += std::string(random() % 40, 'v');
    }
    file += ",z\r\n";
  }
  const std::vector<CsvPiece> pieces = Cut(file, 300, 1 + random() % 50);
  ASSERT_GT(pieces.size(), 10u);
  std::string rejoined = "a,b,c\r\n";
  size_t rows = 0;
  for (const CsvPiece& piece : pieces) {
    ASSERT_TRUE(piece.text.starts_with("a,b,c\r\n"));
    EXPECT_LE(piece.text.size(), 300u);
    rejoined += piece.text.substr(7);
    rows += piece.rows;
  }
  EXPECT_TRUE(rejoined == file) << "the pieces without their headers are not the file";
  EXPECT_EQ(rows, 500u);
}

}  // namespace
}  // namespace tessera::tools
