"""load_trials and TrialTable: mapping, ordering, filters, labels, feedback, batches, output."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from catmodel.data import ColumnMap, DataError, Standardization, TrialBatch, TrialTable, load_trials


def csv(write_file, name: str, frame: pd.DataFrame):
    return write_file(name, frame.to_csv(index=False))


def test_standard_file_loads(standard_csv, standard_frame):
    table = load_trials(standard_csv, ColumnMap())
    assert table.n_learners == 3 and table.n_trials == len(standard_frame)
    assert table.learners == ["1", "2", "3"]
    assert table.features == ["x1", "x2"]
    assert table.categories == ["A", "B"]
    f = table.frame
    assert list(f.columns[:4]) == ["learner", "participant", "trial", "trial_original"]
    assert f["trial"].tolist()[:3] == [1, 2, 3]
    assert f["feedback"].tolist() == f["category"].tolist()  # veridical by default
    assert f["source_row"].iloc[0] == 2 and str(standard_csv) == f["source_file"].iloc[0]
    assert table.source == str(standard_csv)


def test_user_names_are_mapped(write_file, standard_frame):
    renamed = standard_frame.rename(
        columns={
            "participant": "subject",
            "category": "cat",
            "response": "resp",
            "x1": "x",
            "x2": "y",
        }
    )
    path = csv(write_file, "t.csv", renamed)
    table = load_trials(
        path, ColumnMap(participant="subject", category="cat", response="resp", features="x,y")
    )
    assert table.features == ["x", "y"] and table.n_trials == len(standard_frame)
    # x, y are also found by default
    assert load_trials(
        path, ColumnMap(participant="subject", category="cat", response="resp")
    ).features == ["x", "y"]


def test_integer_labels_stay_python_ints(write_file, make_frame):
    frame = make_frame(labels=(1, 2, 10))
    table = load_trials(csv(write_file, "t.csv", frame), ColumnMap())
    assert table.categories == [1, 2, 10]
    assert all(type(v) is int for v in table.frame["response"])


def test_participant_from_file_name(write_file, standard_frame):
    for p, part in standard_frame.groupby("participant"):
        csv(write_file, f"d/sub_{p}_data.csv.gz", part.drop(columns="participant"))
    folder = write_file("d/readme.txt", "about\n").parent
    table = load_trials(folder, ColumnMap())
    assert table.learners == ["sub_1_data", "sub_2_data", "sub_3_data"]
    table = load_trials(str(folder / "*.csv.gz"), ColumnMap(participant_from_filename=r"sub_(\d+)"))
    assert table.learners == ["1", "2", "3"]
    with pytest.raises(DataError, match="does not match"):
        load_trials(folder, ColumnMap(participant_from_filename=r"subject(\d+)"))


def test_row_order_without_trial_column(write_file):
    text = "x1,category,response\n0.3,A,A\n0.1,B,B\n0.2,A,B\n"
    table = load_trials(write_file("p9.csv", text), ColumnMap())
    assert table.frame["x1"].tolist() == [0.3, 0.1, 0.2]
    assert table.frame["trial"].tolist() == [1, 2, 3]
    assert table.frame["trial_original"].isna().all()


def test_order_is_block_then_trial_then_row(write_file):
    # trial numbers restart in each block; rows are shuffled in the file
    text = (
        "participant,block,trial,x1,category,response\n"
        "1,2,1,21,A,A\n1,1,2,12,B,B\n1,2,2,22,B,B\n1,1,1,11,A,A\n"
        "2,1,1,11,A,B\n2,1,2,12,B,B\n"
    )
    table = load_trials(write_file("t.csv", text), ColumnMap())
    f = table.frame
    assert f["x1"].tolist() == [11, 12, 21, 22, 11, 12]
    assert f["trial"].tolist() == [1, 2, 3, 4, 1, 2]
    assert f["trial_original"].tolist() == [1, 2, 1, 2, 1, 2]
    assert f["block"].tolist() == [1, 1, 2, 2, 1, 1]
    assert f["source_row"].tolist() == [5, 3, 2, 4, 6, 7]


def test_learner_key_of_several_columns(write_file):
    text = (
        "subj,prob,trial,x1,cat,resp\n7,1,1,0.1,A,A\n7,1,2,0.2,B,A\n7,2,1,0.3,A,B\n7,2,2,0.4,B,B\n"
    )
    columns = ColumnMap(participant="subj", learner="subj,prob", category="cat", response="resp")
    table = load_trials(write_file("t.csv", text), columns)
    assert table.learners == ["7:1", "7:2"]
    assert set(table.frame["participant"]) == {"7"}
    # without the participant among the key, it is put in front
    table = load_trials(
        write_file("t.csv", text),
        ColumnMap(participant="subj", learner="prob", category="cat", response="resp"),
    )
    assert table.learners == ["7:1", "7:2"]
    # the first learner column is the participant when none is named
    table = load_trials(
        write_file("t.csv", text), ColumnMap(learner="subj,prob", category="cat", response="resp")
    )
    assert table.frame["participant"].unique().tolist() == ["7"]


def test_recode_response_and_category(write_file):
    text = "participant,x1,category,response\n1,0.1,1,100\n1,0.2,2,107\n1,0.3,1,\n1,0.4,2,999\n"
    columns = ColumnMap(recode_category="1=A,2=B", recode_response="100=A,107=B,999=")
    table = load_trials(write_file("t.csv", text), columns)
    assert table.categories == ["A", "B"]
    assert table.frame["response"].tolist() == ["A", "B", None, None]


def test_missing_response_is_kept(write_file):
    text = "participant,x1,category,response\n1,0.1,A,\n1,0.2,B,B\n1,0.3,A,NA\n"
    table = load_trials(write_file("t.csv", text), ColumnMap())
    assert table.n_trials == 3
    assert table.frame["response"].tolist() == [None, "B", None]
    batch = table.to_batch()
    assert batch.response[0].tolist() == [-1, 1, -1]


def test_drop_invalid_responses_is_counted(write_file):
    text = (
        "participant,x1,category,response\n"
        "1,0.1,A,A\n1,0.2,B,100\n1,0.3,B,B\n1,0.4,B,97\n1,0.5,A,100\n"
    )
    table = load_trials(write_file("t.csv", text), ColumnMap(drop_invalid_responses=True))
    assert table.n_trials == 2
    assert table.dropped == {"invalid_responses": 3}
    assert table.notes == [
        "--drop-invalid-responses: dropped 3 of 5 trials whose response is not a category "
        "label; responses 100 (2 trials), 97 (1 trial); participant 1 (3 trials)"
    ]
    assert table.frame["trial"].tolist() == [1, 2]


def test_dropped_responses_name_their_participants_and_files(write_file):
    header = "participant,x1,category,response\n"
    first = write_file("a.csv", header + "p1,0.1,A,A\np1,0.2,B,9\np1,0.3,B,B\n")
    second = write_file("b.csv", header + "p2,0.1,A,A\np2,0.2,B,B\np2,0.3,A,9\np2,0.4,B,9\n")
    table = load_trials([first, second], ColumnMap(drop_invalid_responses=True))
    assert table.notes == [
        "--drop-invalid-responses: dropped 3 of 7 trials whose response is not a category "
        "label; response 9 (3 trials); participants p1 (1 trial), p2 (2 trials); "
        "2 files a.csv, b.csv"
    ]
    clean = write_file("c.csv", header + "p3,0.1,A,A\np3,0.2,B,B\n")
    assert load_trials(clean, ColumnMap(drop_invalid_responses=True)).notes == [
        "--drop-invalid-responses: every response is a category label; no trial dropped"
    ]


def test_trial_numbers_stay_whole_numbers(write_file):
    text = "participant,trial,x1,category,response\n1,3,0.1,A,A\n1,4,0.2,B,B\n1,,0.3,A,B\n"
    table = load_trials(write_file("t.csv", text), ColumnMap())
    assert str(table.frame["trial_original"].dtype) == "Int64"
    assert table.frame["trial_original"].iloc[:2].tolist() == [3, 4]
    assert table.frame["trial_original"].isna().tolist() == [False, False, True]
    assert ",3,0.1," in table.frame.to_csv(index=False)  # written as 3, not 3.0
    halves = text.replace("1,4,", "1,4.5,")
    table = load_trials(write_file("h.csv", halves), ColumnMap())
    assert table.frame["trial_original"].tolist()[:2] == [3.0, 4.5]


def test_trials_filter_counts_positions_after_where(write_file):
    text = "participant,trial,x1,category,response,kind\n" + "".join(
        f"1,{t},{t},{'AB'[t % 2]},A,{'pad' if t in (2, 3) else 'real'}\n" for t in range(1, 9)
    )
    columns = ColumnMap(where="kind == 'real'", trials="2-3")
    table = load_trials(write_file("t.csv", text), columns)
    # real trials are 1,4,5,6,7,8: positions 2-3 are trials 4 and 5
    assert table.frame["trial_original"].tolist() == [4, 5]
    assert table.frame["trial"].tolist() == [1, 2]
    assert table.dropped == {"where": 2, "trials": 4}
    assert len(table.notes) == 2


def test_trials_filter_comes_before_dropping_responses(write_file):
    text = "participant,x1,category,response\n" + "".join(
        f"1,{t},{'AB'[t % 2]},{'X' if t == 1 else 'A'}\n" for t in range(1, 7)
    )
    table = load_trials(
        write_file("t.csv", text), ColumnMap(trials="1-3", drop_invalid_responses=True)
    )
    assert table.frame["x1"].tolist() == [2, 3]


def test_phase_filter(write_file):
    text = (
        "participant,x1,category,response,stage\n"
        "1,1,A,A,learn\n1,2,B,B,learn\n1,3,A,B,test\n1,4,B,B,transfer\n"
    )
    path = write_file("t.csv", text)
    table = load_trials(path, ColumnMap(phase_column="stage", phase="learn"))
    assert table.frame["x1"].tolist() == [1, 2] and table.frame["phase"].tolist() == ["learn"] * 2
    table = load_trials(path, ColumnMap(phase_column="stage", phase="learn,transfer"))
    assert table.dropped == {"phase": 1}
    with pytest.raises(DataError, match="--phase-column"):
        load_trials(path, ColumnMap(phase="learn"))


def test_numeric_phase_matches_text_value(write_file):
    text = "1 0.5 1 1\n1 0.7 2 2\n2 0.1 1 2\n2 0.2 2 2\n"
    table = load_trials(
        write_file("s1.txt", text),
        ColumnMap(phase_column=1, phase="1", features="2", category=3, response=4),
    )
    assert table.n_trials == 2


def test_where_on_original_names_and_positions(write_file):
    text = "subj,DV,value,cat,x1\n1,resp_key,1,1,0.5\n1,rt,900,1,0.5\n1,resp_key,0,0,0.2\n"
    table = load_trials(
        write_file("t.csv", text),
        ColumnMap(participant="subj", response="value", category="cat", where="DV == 'resp_key'"),
    )
    assert table.frame["response"].tolist() == [1, 0]
    headerless = write_file("h.txt", "1 0.5 1 1\n1 0.7 0 0\n1 0.2 0 9\n")
    table = load_trials(
        headerless, ColumnMap(features="2", category=3, response=4, where="`4` != 9")
    )
    assert table.n_trials == 2


def test_binary_code_from_bit_strings_and_integers(write_file):
    text = "participant,stim,code,category,response\n1,011,1,A,A\n1,101,8,B,B\n1,000,4,A,B\n"
    path = write_file("t.csv", text)
    table = load_trials(path, ColumnMap(binary_code="stim"))
    assert table.features == ["stim_1", "stim_2", "stim_3"]
    assert table.frame[table.features].to_numpy().tolist() == [[0, 1, 1], [1, 0, 1], [0, 0, 0]]
    table = load_trials(path, ColumnMap(binary_code="code"))
    # 1..8 -> 0..7 in three bits
    assert table.features == ["code_1", "code_2", "code_3"]
    assert table.frame[table.features].to_numpy().tolist() == [[0, 0, 0], [1, 1, 1], [0, 1, 1]]
    table = load_trials(path, ColumnMap(features="code", binary_code="stim"))
    assert table.features == ["code", "stim_1", "stim_2", "stim_3"]


def test_feedback_column_and_no_feedback_trials(write_file):
    text = "participant,x1,category,response,fb\n1,1,A,A,A\n1,2,B,B,A\n1,3,A,B,\n1,4,B,B,0\n"
    table = load_trials(write_file("t.csv", text), ColumnMap(feedback="fb"))
    assert table.frame["feedback"].tolist() == ["A", "A", None, None]
    assert table.to_batch().feedback[0].tolist() == [0, 0, -1, -1]


def test_zero_feedback_is_a_label_when_zero_is_a_category(write_file):
    text = "participant,x1,category,response,feedback\n1,1,0,0,0\n1,2,1,1,0\n1,3,0,1,\n"
    table = load_trials(write_file("t.csv", text), ColumnMap())
    assert table.frame["feedback"].tolist() == [0, 0, None]


@pytest.mark.parametrize(
    "word_right, word_wrong",
    [
        ("1", "0"),
        ("TRUE", "false"),
        ("Correct", "Incorrect"),
        ("yes", "No"),
        ("correct", "wrong"),
    ],
)
def test_correct_with_two_categories_names_a_label(write_file, word_right, word_wrong):
    text = (
        "participant,x1,category,response,fb\n"
        f"1,1,A,A,{word_right}\n1,2,B,A,{word_wrong}\n1,3,A,B,{word_right}\n"
        f"1,4,B,,{word_right}\n1,5,A,A,\n"
    )
    table = load_trials(write_file("t.csv", text), ColumnMap(correct="fb"))
    # right: the response; wrong: the other category; no response or no value: no label
    assert table.frame["feedback"].tolist() == ["A", "B", "B", None, None]


def test_incorrect_with_more_categories_names_no_label(write_file):
    text = "participant,x1,category,response,correct\n1,1,1,1,1\n1,2,2,3,0\n1,3,3,3,1\n"
    table = load_trials(write_file("t.csv", text), ColumnMap())
    assert table.frame["feedback"].tolist() == [1, None, 3]


def test_batch_from_table(write_file, make_frame):
    frame = make_frame(n_participants=2, n_trials=30)
    frame = frame[~((frame["participant"] == 2) & (frame["trial"] > 20))]
    table = load_trials(csv(write_file, "t.csv", frame), ColumnMap())
    batch = table.to_batch()
    assert isinstance(batch, TrialBatch)
    assert batch.x.shape == (2, 30, 2) and batch.x.dtype == torch.float64
    assert batch.n_trials.tolist() == [30, 20]
    assert batch.mask.sum().item() == 50
    assert batch.categories == ("A", "B") and batch.learners == ("1", "2")
    assert abs(float(batch.x[batch.mask].mean())) < 1e-12  # standardised
    raw = table.to_batch(standardize=False, dtype=torch.float32)
    assert raw.x.dtype == torch.float32
    assert np.allclose(raw.x[0, :3, 0].numpy(), frame["x1"].to_numpy()[:3])
    same = table.to_batch(standardize=batch.standardization)
    assert isinstance(same.standardization, Standardization)
    assert torch.equal(same.x, batch.x)


def test_batch_values_go_back_to_their_table_rows(write_file, make_frame):
    frame = make_frame(n_participants=2, n_trials=6)
    frame = frame[~((frame["participant"] == 2) & (frame["trial"] > 4))]
    table = load_trials(csv(write_file, "t.csv", frame), ColumnMap())
    batch = table.to_batch()
    raw = table.to_batch(standardize=False).x[..., 0].numpy()
    back = batch.on_table_rows(raw, len(table.frame))
    assert np.array_equal(back, table.frame["x1"].to_numpy(dtype=float))
    labels = np.array(batch.categories, dtype=object)[batch.category.numpy()]
    padded = np.full((2, 6), "pad", dtype=object)
    padded[batch.mask.numpy()] = labels[batch.mask.numpy()]
    names = batch.on_table_rows(padded, len(table.frame) + 1, fill=None)
    assert names[:-1].tolist() == table.frame["category"].tolist()
    assert names[-1] is None  # a row with no trial in the batch


def test_summary(write_file):
    text = (
        "participant,x1,category,response,condition\n"
        "1,1,A,A,c1\n1,2,B,A,c1\n1,3,A,,c1\n2,1,A,A,c2\n2,2,B,B,c2\n"
    )
    summary = load_trials(write_file("t.csv", text), ColumnMap()).summary()
    assert summary["learner"].tolist() == ["1", "2"]
    assert summary["trials"].tolist() == [3, 2]
    assert summary["responses"].tolist() == [2, 2]
    assert summary["accuracy"].tolist() == [0.5, 1.0]
    assert summary["condition"].tolist() == ["c1", "c2"]


def test_to_csv_round_trip(write_file, tmp_path):
    text = (
        "subj,prob,blk,t,x,y,cat,resp,fb,rt,cond\n"
        "7,1,1,1,0.1,1e-17,1,1,1,512.5,a\n7,1,1,2,0.2,3.3,2,1,0,400,a\n"
        "7,2,1,1,0.3,0.1,1,2,2,,a\n7,2,2,1,0.4,2.2,2,,2,300,a\n"
        "8,1,1,1,0.123456789012345678,1,2,2,1,1,b\n8,1,1,2,0.5,5,1,1,1,2,b\n"
    )
    columns = ColumnMap(
        participant="subj",
        learner="subj,prob",
        block="blk",
        trial="t",
        category="cat",
        response="resp",
        feedback="fb",
        condition="cond",
    )
    table = load_trials(write_file("t.csv", text), columns)
    for name in ("out.csv", "out.csv.gz"):
        path = table.to_csv(tmp_path / name)
        again = load_trials(path, ColumnMap())
        keep = [
            c
            for c in table.frame.columns
            if c not in ("trial_original", "source_file", "source_row")
        ]
        pd.testing.assert_frame_equal(again.frame[keep], table.frame[keep])
        assert again.features == table.features and again.categories == table.categories
        assert again.learners == table.learners
    assert not list(tmp_path.glob(".out*"))  # no temporary files left


def test_to_csv_round_trip_of_binary_features(tmp_path):
    frame = pd.DataFrame(
        {
            "participant": [1, 1, 1],
            "stim": ["01", "10", "11"],
            "category": [0, 1, 1],
            "response": [0, 0, 1],
        }
    )
    table = TrialTable.from_frame(frame, columns=ColumnMap(binary_code="stim"))
    again = load_trials(table.to_csv(tmp_path / "out.csv"), ColumnMap())
    assert again.features == ["stim_1", "stim_2"]
    assert again.frame[again.features].equals(table.frame[table.features])


def test_from_frame_validates_in_memory_tables(standard_frame):
    table = TrialTable.from_frame(standard_frame, ["x1", "x2"])
    assert table.n_trials == len(standard_frame) and table.source == "<memory>"
    assert (
        TrialTable.from_frame(table.frame, table.features)
        .frame["learner"]
        .equals(table.frame["learner"])
    )
    design = standard_frame.drop(columns="response")
    assert TrialTable.from_frame(design, ["x1", "x2"]).frame["response"].isna().all()
    bad = standard_frame.copy()
    bad.loc[5, "x2"] = np.nan
    with pytest.raises(DataError) as exc:
        TrialTable.from_frame(bad, ["x1", "x2"], source="simulated")
    assert str(exc.value).startswith("simulated, row 6, column x2:")
    table = TrialTable.from_frame(standard_frame, ["x1", "x2"], categories=["A", "B", "C"])
    assert table.categories == ["A", "B", "C"]


def test_from_frame_keeps_source_locations(standard_frame):
    table = TrialTable.from_frame(standard_frame, ["x1", "x2"])
    frame = table.frame.copy()
    frame.loc[3, "response"] = "Q"
    with pytest.raises(DataError) as exc:
        TrialTable.from_frame(frame, ["x1", "x2"])
    # rows of an in-memory table are numbered from 1; the second load reports the first one's
    assert str(exc.value).startswith("<memory>, row 4, column response:")


def test_three_hundred_headerless_files_load(tmp_path, make_frame):
    # the time this takes is a benchmark (benchmarks/load_speed.py), not a test
    frame = make_frame(n_participants=300, n_trials=900, labels=(1, 2, 3, 4))
    rng = np.random.default_rng(1)
    frame["rt"] = rng.gamma(2, 0.5, len(frame))
    frame = frame[["participant", "trial", "x1", "x2", "category", "response", "rt"]]
    for p, part in frame.groupby("participant"):
        text = part.drop(columns="participant").round(4).to_csv(sep=" ", index=False, header=False)
        (tmp_path / f"sub{p}.dat").write_text(text)
    columns = ColumnMap(trial=1, features="2,3", category=4, response=5, rt=6)
    table = load_trials(tmp_path, columns)
    assert table.n_learners == 300 and table.n_trials == 270_000
    # every response time arrives (files and participants may come in another order)
    np.testing.assert_allclose(
        np.sort(table.frame["rt"]), np.sort(frame["rt"].round(4)), rtol=0, atol=1e-12
    )


def test_binary_code_over_several_files(write_file):
    # integer codes are relative to the minimum over all files, not each file's own
    write_file("d/p1.csv", "stim,category,response\n2,A,A\n3,B,B\n")
    write_file("d/p2.csv", "stim,category,response\n4,A,A\n5,B,B\n")
    bits = write_file("d/p3.csv", "stim,category,response\n01,A,A\n10,B,B\n")
    table = load_trials(str(bits.parent / "p[12].csv"), ColumnMap(binary_code="stim"))
    assert table.features == ["stim_1", "stim_2"]
    assert table.frame[table.features].to_numpy().tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    with pytest.raises(DataError) as exc:
        load_trials(bits.parent, ColumnMap(binary_code="stim"))
    assert "p3.csv, row 1, column stim: values to binary-code are 2-digit bit strings" in str(
        exc.value
    )


def test_binary_code_without_header(write_file):
    path = write_file("s1.txt", "A 3 A\nB 0 B\n")
    table = load_trials(path, ColumnMap(binary_code=2, category=1, response=3))
    assert table.features == ["col2_1", "col2_2"]
    assert table.frame[table.features].to_numpy().tolist() == [[1, 1], [0, 0]]


def test_where_sees_natural_types_of_a_binary_coded_column(write_file):
    # the binary-coded column is also read as text, but --where compares numbers
    path = write_file("t.csv", "participant,stim,category,response\n1,1,A,A\n1,2,B,B\n1,9,A,B\n")
    table = load_trials(path, ColumnMap(binary_code="stim", where="stim < 9"))
    assert table.n_trials == 2 and table.features == ["stim_1"]


def test_from_frame_of_a_loaded_table_is_the_same_table(write_file):
    text = (
        "participant,block,trial,x,y,category,response,phase,condition\n"
        "1,1,1,0.5,1,A,A,learn,c\n1,1,2,0.1,2,B,,learn,c\n1,2,1,0.2,3,A,B,test,c\n"
    )
    table = load_trials(write_file("t.csv", text), ColumnMap())
    again = TrialTable.from_frame(table.frame, table.features)
    keep = [c for c in table.frame.columns if c not in ("trial_original", "source_file")]
    pd.testing.assert_frame_equal(again.frame[keep], table.frame[keep])
    assert again.frame["block"].dtype == "Int64"
