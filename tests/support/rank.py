"""A small, realistic screening set shared by the prioritisation tests."""

# A small, realistic review: peer mentors / peer support in alcohol and drug services
# (relevant) among the usual search noise (not relevant).
RELEVANT = [
    ("Peer mentoring for people in recovery from alcohol dependence: a randomised trial",
     ("Peer mentors with lived experience of alcohol dependence supported adults leaving "
     "residential treatment. Peer mentoring improved abstinence at six months.")),
    ("Peer support workers in drug treatment services: a qualitative study",
     ("We interviewed peer support workers with lived experience of drug use employed in "
     "community drug treatment services about their role in recovery.")),
    ("Recovery coaches and peer recovery support services for substance use disorder",
     ("Peer recovery coaches with lived experience delivered recovery support to patients "
     "with substance use disorder after emergency department visits for opioid overdose.")),
    ("Lived experience peer mentors in alcohol services: a mixed-methods evaluation",
     ("A peer mentoring programme in alcohol services matched service users with peer "
     "mentors in recovery; engagement in treatment increased.")),
    ("Effect of peer-delivered recovery support on retention in methadone treatment",
     ("Peer support delivered by people in recovery from opioid use improved retention "
     "in methadone maintenance treatment in a cluster randomised trial.")),
    ("Peer navigators for people who use drugs: a systematic review",
     ("Peer navigators with lived experience of drug use help people who use drugs "
     "access treatment; we review peer support interventions in substance use services.")),
]
IRRELEVANT = [
    ("Statin therapy and cardiovascular outcomes in older adults",
     "A cohort study of statin use and myocardial infarction in adults aged over 75."),
    ("Deep learning for retinal image segmentation",
     "A convolutional neural network segments retinal vessels in fundus photographs."),
    ("Soil nitrogen dynamics under winter wheat",
     "Field trials measured nitrate leaching and nitrogen uptake in winter wheat."),
    ("Antibiotic prophylaxis in caesarean section: a meta-analysis",
     "Prophylactic antibiotics reduced wound infection after caesarean delivery."),
    ("Coral reef bleaching and sea surface temperature anomalies",
     "Bleaching events were associated with marine heatwaves across the reef."),
    ("Exercise training in heart failure with preserved ejection fraction",
     "Aerobic exercise improved peak oxygen uptake in patients with heart failure."),
    ("School-based vision screening in rural districts",
     "Teachers screened visual acuity of primary school children in rural schools."),
    ("Hip fracture surgery within 48 hours and mortality",
     "Early surgery after hip fracture was associated with lower 30-day mortality."),
    ("Machine translation quality estimation for low-resource languages",
     "We estimate translation quality without references for low-resource languages."),
    ("Vitamin D supplementation and falls in care homes",
     "Vitamin D supplementation did not reduce falls among care home residents."),
    ("Urban heat islands and night-time temperatures",
     "Satellite data show urban heat island intensity is greatest at night."),
    ("Dental caries in preschool children and sugar intake",
     "Sugar-sweetened drinks were associated with caries in preschool children."),
]
