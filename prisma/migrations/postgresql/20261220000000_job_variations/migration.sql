-- AlterTable
ALTER TABLE "Job" ADD COLUMN "parentJobId" INTEGER,
ADD COLUMN "variation" TEXT,
ADD COLUMN "startRef" TEXT;

-- CreateIndex
CREATE INDEX "Job_contentRef_idx" ON "Job"("contentRef");
